/**
 * Checks an OTLP trace request that arrived from an untrusted sender and returns a clean copy of it.
 *
 *     const { request, rejectedSpans, errors } = validateTraceRequest(JSON.parse(body), limits, Date.now());
 *
 * The copy is built field by field from what the OTLP/JSON shape allows, so unknown fields, inherited
 * properties and `__proto__` keys never reach later stages. A malformed envelope (no `resourceSpans` array)
 * throws a `ValidationError`; a malformed span is dropped and counted, as OTLP/HTTP's partial success
 * expects, and over-long or over-many attributes are truncated and counted in `droppedAttributesCount`.
 */
import type {
  AnyValue,
  ExportTraceServiceRequest,
  InstrumentationScope,
  KeyValue,
  Resource,
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
  Status,
} from './types.ts';

export interface ValidationLimits {
  /** Spans accepted from one request; the rest are rejected. */
  maxSpans: number;
  /** Attributes kept per resource, scope, span, event or link. */
  maxAttributes: number;
  maxAttributeKeyLength: number;
  /** Longer string values are cut to this many UTF-16 units. */
  maxAttributeValueLength: number;
  /** Items kept per array or kvlist value. */
  maxArrayLength: number;
  /** Deepest array/kvlist nesting inside one attribute value; deeper attributes are dropped. */
  maxDepth: number;
  maxEventsPerSpan: number;
  maxLinksPerSpan: number;
  /** Span names and status messages are cut to this length. */
  maxNameLength: number;
  /** Spans that start further than this in the future of the sender's clock are rejected. */
  maxFutureMs: number;
  /** Spans that started longer ago than this are rejected. */
  maxAgeMs: number;
}

export const DEFAULT_VALIDATION_LIMITS: ValidationLimits = {
  maxSpans: 1000,
  maxAttributes: 128,
  maxAttributeKeyLength: 256,
  maxAttributeValueLength: 4096,
  maxArrayLength: 128,
  maxDepth: 8,
  maxEventsPerSpan: 128,
  maxLinksPerSpan: 32,
  maxNameLength: 1024,
  maxFutureMs: 60_000,
  maxAgeMs: 3 * 24 * 3600_000,
};

export interface ValidationResult {
  request: ExportTraceServiceRequest;
  acceptedSpans: number;
  rejectedSpans: number;
  /** Up to five distinct reasons, for the partial-success message. */
  errors: string[];
}

export class ValidationError extends Error {
  override name = 'ValidationError';
}

/** Keys that would reach an object's prototype if a later stage ever indexed an object by attribute key. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const SPAN_ID = /^[0-9a-fA-F]{16}$/;
const ZERO_ID = /^0+$/;
const SIGNED = /^-?\d{1,19}$/;
const MAX_ERRORS = 5;
const TOO_DEEP = Symbol('too deep');

/**
 * Why a span is refused, thrown out of the checks of its fields. Not an Error: a sender may send a thousand
 * broken spans in 2 KiB, and capturing a stack trace for each took 4 ms of the 4.5 ms that request cost.
 */
class SpanRejected {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Bytes in standard base64 with padding, from the standard or URL-safe alphabet with or without it (what
 * protobuf's JSON mapping accepts); `undefined` for anything else, which the protobuf encoder could not decode.
 */
function standardBase64(value: string): string | undefined {
  const standard = value.replace(/-/g, '+').replace(/_/g, '/');
  const padded = standard.length % 4 ? standard.padEnd(standard.length + 4 - (standard.length % 4), '=') : standard;
  return BASE64.test(padded) ? padded : undefined;
}

/** Within int64 (`SIGNED` holds up to 19 digits, some beyond it): the protobuf encoder would wrap the rest. */
function isInt64(value: string): boolean {
  const negative = value.startsWith('-');
  const digits = value.slice(negative ? 1 : 0).replace(/^0+(?=\d)/, '');
  if (digits.length < 19) return true;
  // Strings of equal length compare as the numbers they spell.
  return digits.length === 19 && digits <= (negative ? '9223372036854775808' : '9223372036854775807');
}

/**
 * @param nowMs the current time on the sender's clock (the edge's clock plus the measured skew), against
 *   which the future and age limits are applied.
 */
export function validateTraceRequest(input: unknown, limits: ValidationLimits, nowMs: number): ValidationResult {
  if (!isRecord(input)) throw new ValidationError('the body is not an OTLP ExportTraceServiceRequest object');
  const rawResourceSpans = input.resourceSpans;
  if (!Array.isArray(rawResourceSpans)) throw new ValidationError('resourceSpans must be an array');
  const v = new Validator(limits, nowMs);
  const resourceSpans: ResourceSpans[] = [];
  for (const raw of rawResourceSpans) {
    const rs = v.resourceSpans(raw);
    if (rs) resourceSpans.push(rs);
  }
  return { request: { resourceSpans }, acceptedSpans: v.accepted, rejectedSpans: v.rejected, errors: v.errors };
}

class Validator {
  /** Spans looked at so far, accepted or not. */
  seen = 0;
  accepted = 0;
  rejected = 0;
  errors: string[] = [];
  readonly limits: ValidationLimits;
  readonly minNs: number;
  readonly maxNs: number;

  constructor(limits: ValidationLimits, nowMs: number) {
    this.limits = limits;
    // Nanosecond timestamps only need millisecond precision for these bounds; doubles give that.
    this.minNs = (nowMs - limits.maxAgeMs) * 1e6;
    this.maxNs = (nowMs + limits.maxFutureMs) * 1e6;
  }

  reject(reason: string, count = 1): void {
    this.rejected += count;
    if (this.errors.length < MAX_ERRORS && !this.errors.includes(reason)) this.errors.push(reason);
  }

  resourceSpans(raw: unknown): ResourceSpans | undefined {
    if (!isRecord(raw)) {
      this.reject('a resourceSpans entry is not an object');
      return undefined;
    }
    const scopeSpans: ScopeSpans[] = [];
    if (Array.isArray(raw.scopeSpans)) {
      for (const rawScopeSpans of raw.scopeSpans) {
        const ss = this.scopeSpans(rawScopeSpans);
        if (ss) scopeSpans.push(ss);
      }
    }
    if (scopeSpans.length === 0) return undefined;
    const out: ResourceSpans = { scopeSpans };
    if (isRecord(raw.resource)) out.resource = this.resource(raw.resource);
    if (typeof raw.schemaUrl === 'string' && raw.schemaUrl) out.schemaUrl = this.cut(raw.schemaUrl);
    return out;
  }

  resource(raw: Record<string, unknown>): Resource {
    const out: Resource = { attributes: [] };
    this.attributesInto(out, raw);
    return out;
  }

  scopeSpans(raw: unknown): ScopeSpans | undefined {
    if (!isRecord(raw)) {
      this.reject('a scopeSpans entry is not an object');
      return undefined;
    }
    const spans: Span[] = [];
    if (Array.isArray(raw.spans)) {
      for (let index = 0; index < raw.spans.length; index++) {
        const rawSpan: unknown = raw.spans[index];
        // Past the limit the rest are refused unread, valid or not: a small gzip body can hold a million
        // empty spans, and examining each would cost seconds.
        if (this.seen++ >= this.limits.maxSpans) {
          this.reject(`more than ${this.limits.maxSpans} spans in one request`, raw.spans.length - index);
          break;
        }
        try {
          spans.push(this.span(rawSpan));
          this.accepted++;
        } catch (error) {
          if (!(error instanceof SpanRejected)) throw error;
          this.reject(error.message);
        }
      }
    }
    if (spans.length === 0) return undefined;
    const out: ScopeSpans = { spans };
    if (isRecord(raw.scope)) out.scope = this.scope(raw.scope);
    if (typeof raw.schemaUrl === 'string' && raw.schemaUrl) out.schemaUrl = this.cut(raw.schemaUrl);
    return out;
  }

  scope(raw: Record<string, unknown>): InstrumentationScope {
    const out: InstrumentationScope = { name: typeof raw.name === 'string' ? this.cut(raw.name) : '' };
    if (typeof raw.version === 'string' && raw.version) out.version = this.cut(raw.version);
    if (hasAttributes(raw)) this.attributesInto(out, raw);
    return out;
  }

  span(raw: unknown): Span {
    if (!isRecord(raw)) throw new SpanRejected('a span is not an object');
    const traceId = id(raw.traceId, TRACE_ID, 'traceId');
    const spanId = id(raw.spanId, SPAN_ID, 'spanId');
    const startTimeUnixNano = timestamp(raw.startTimeUnixNano, 'startTimeUnixNano');
    const endTimeUnixNano = timestamp(raw.endTimeUnixNano, 'endTimeUnixNano');
    const start = Number(startTimeUnixNano);
    if (Number(endTimeUnixNano) < start) throw new SpanRejected('a span ends before it starts');
    if (Number(endTimeUnixNano) > this.maxNs) throw new SpanRejected('a span ends too far in the future');
    if (start < this.minNs) throw new SpanRejected('a span is older than the accepted age');
    const kind = raw.kind ?? 0;
    if (!Number.isInteger(kind) || (kind as number) < 0 || (kind as number) > 5) {
      throw new SpanRejected('span kind is not 0–5');
    }
    const out: Span = {
      traceId,
      spanId,
      name: typeof raw.name === 'string' ? this.cut(raw.name) : '',
      kind: kind as Span['kind'],
      startTimeUnixNano,
      endTimeUnixNano,
    };
    // proto3's JSON mapping reads null as the field's default: no parent.
    if (raw.parentSpanId !== undefined && raw.parentSpanId !== null && raw.parentSpanId !== '') {
      out.parentSpanId = id(raw.parentSpanId, SPAN_ID, 'parentSpanId');
    }
    if (typeof raw.traceState === 'string' && raw.traceState) out.traceState = traceState(raw.traceState);
    const flags = uint32(raw.flags);
    if (flags) out.flags = flags;
    if (hasAttributes(raw)) this.attributesInto(out, raw);
    const rawEvents: unknown[] = Array.isArray(raw.events) ? raw.events : [];
    const events: SpanEvent[] = [];
    for (const rawEvent of rawEvents.slice(0, this.limits.maxEventsPerSpan)) {
      const event = this.event(rawEvent);
      // An event outside the accepted time range is dropped (and counted), not the span that carries it.
      if (this.inRange(Number(event.timeUnixNano))) events.push(event);
    }
    if (events.length) out.events = events;
    const droppedEvents = droppedCount(raw.droppedEventsCount, rawEvents.length - events.length);
    if (droppedEvents) out.droppedEventsCount = droppedEvents;
    const rawLinks: unknown[] = Array.isArray(raw.links) ? raw.links : [];
    const links: SpanLink[] = [];
    for (const rawLink of rawLinks.slice(0, this.limits.maxLinksPerSpan)) {
      // A malformed link is dropped (and counted), not the span that carries it.
      const link = this.link(rawLink);
      if (link) links.push(link);
    }
    if (links.length) out.links = links;
    const droppedLinks = droppedCount(raw.droppedLinksCount, rawLinks.length - links.length);
    if (droppedLinks) out.droppedLinksCount = droppedLinks;
    if (isRecord(raw.status)) out.status = this.status(raw.status);
    return out;
  }

  inRange(ns: number): boolean {
    return ns >= this.minNs && ns <= this.maxNs;
  }

  event(raw: unknown): SpanEvent {
    if (!isRecord(raw)) throw new SpanRejected('a span event is not an object');
    const out: SpanEvent = {
      timeUnixNano: timestamp(raw.timeUnixNano, 'event timeUnixNano'),
      name: typeof raw.name === 'string' ? this.cut(raw.name) : '',
    };
    if (hasAttributes(raw)) this.attributesInto(out, raw);
    return out;
  }

  /**
   * A clean copy of a link, undefined when it is malformed. Its ids may be all zero: the API records links to an
   * invalid span context when they carry attributes or a trace state (a message without trace context).
   */
  link(raw: unknown): SpanLink | undefined {
    if (!isRecord(raw) || !isHexId(raw.traceId, TRACE_ID) || !isHexId(raw.spanId, SPAN_ID)) return undefined;
    const out: SpanLink = { traceId: raw.traceId.toLowerCase(), spanId: raw.spanId.toLowerCase() };
    if (typeof raw.traceState === 'string' && raw.traceState) out.traceState = traceState(raw.traceState);
    const flags = uint32(raw.flags);
    if (flags) out.flags = flags;
    if (hasAttributes(raw)) this.attributesInto(out, raw);
    return out;
  }

  status(raw: Record<string, unknown>): Status {
    const out: Status = {};
    const code = raw.code;
    if (code === 1 || code === 2) out.code = code;
    if (typeof raw.message === 'string' && raw.message) out.message = this.cut(raw.message);
    return out;
  }

  /** Copies `raw.attributes` into `target.attributes`, adding what it leaves out to `droppedAttributesCount`. */
  attributesInto(
    target: { attributes?: KeyValue[]; droppedAttributesCount?: number },
    raw: Record<string, unknown>,
  ): void {
    const list = Array.isArray(raw.attributes) ? raw.attributes : [];
    const attributes = this.topLevelKeyValues(list);
    const dropped = droppedCount(raw.droppedAttributesCount, list.length - attributes.length);
    if (attributes.length || target.attributes) target.attributes = attributes;
    if (dropped) target.droppedAttributesCount = dropped;
  }

  /** The clean attributes of a list; `TOO_DEEP` (below the top level) makes the enclosing attribute go. */
  keyValues(list: unknown[], depth: number, max: number): KeyValue[] | typeof TOO_DEEP {
    const out: KeyValue[] = [];
    for (const raw of list) {
      if (out.length >= max) break;
      const kv = this.keyValue(raw, depth);
      if (kv === TOO_DEEP) return TOO_DEEP;
      if (kv) out.push(kv);
    }
    return out;
  }

  topLevelKeyValues(list: unknown[]): KeyValue[] {
    const out: KeyValue[] = [];
    for (const raw of list) {
      if (out.length >= this.limits.maxAttributes) break;
      // One attribute at a time, so that a too-deep value costs only its own attribute.
      const kv = this.keyValue(raw, 0);
      if (kv && kv !== TOO_DEEP) out.push(kv);
    }
    return out;
  }

  /** A clean copy of one attribute; undefined when it is malformed or forbidden. */
  keyValue(raw: unknown, depth: number): KeyValue | undefined | typeof TOO_DEEP {
    if (!isRecord(raw)) return undefined;
    const { key } = raw;
    if (typeof key !== 'string' || !key || key.length > this.limits.maxAttributeKeyLength) return undefined;
    if (FORBIDDEN_KEYS.has(key)) return undefined;
    const value = this.anyValue(raw.value, depth);
    return value === TOO_DEEP ? TOO_DEEP : value && { key, value };
  }

  /** A clean copy of an attribute value; undefined when malformed, `TOO_DEEP` when it nests too deep. */
  anyValue(raw: unknown, depth: number): AnyValue | undefined | typeof TOO_DEEP {
    if (raw === undefined || raw === null) return {};
    if (!isRecord(raw)) return undefined;
    if (typeof raw.stringValue === 'string') return { stringValue: this.cut(raw.stringValue, true) };
    if (typeof raw.boolValue === 'boolean') return { boolValue: raw.boolValue };
    if (raw.intValue !== undefined) {
      const { intValue } = raw;
      // Past 2^53 a JSON number has lost its last digits already, but is still the integer it reads as (what
      // OpenTelemetry's own JSON serializer sends for large values).
      if (typeof intValue === 'number' && Number.isInteger(intValue) && intValue >= -(2 ** 63) && intValue < 2 ** 63) {
        return { intValue: BigInt(intValue).toString() };
      }
      if (typeof intValue === 'string' && SIGNED.test(intValue) && isInt64(intValue)) return { intValue };
      return undefined;
    }
    if (raw.doubleValue !== undefined) {
      const doubleValue = double(raw.doubleValue);
      return doubleValue === undefined ? undefined : { doubleValue };
    }
    if (typeof raw.bytesValue === 'string') {
      const bytesValue =
        raw.bytesValue.length <= this.limits.maxAttributeValueLength ? standardBase64(raw.bytesValue) : undefined;
      return bytesValue === undefined ? undefined : { bytesValue };
    }
    if (raw.arrayValue === undefined && raw.kvlistValue === undefined) return {};
    if (depth >= this.limits.maxDepth) return TOO_DEEP;
    if (isRecord(raw.arrayValue)) {
      const items = Array.isArray(raw.arrayValue.values) ? raw.arrayValue.values : [];
      const values: AnyValue[] = [];
      for (const item of items.slice(0, this.limits.maxArrayLength)) {
        const value = this.anyValue(item, depth + 1);
        if (value === TOO_DEEP) return TOO_DEEP;
        if (value) values.push(value);
      }
      return { arrayValue: { values } };
    }
    if (isRecord(raw.kvlistValue)) {
      const items = Array.isArray(raw.kvlistValue.values) ? raw.kvlistValue.values : [];
      const values = this.keyValues(items, depth + 1, this.limits.maxArrayLength);
      return values === TOO_DEEP ? TOO_DEEP : { kvlistValue: { values } };
    }
    return {};
  }

  cut(value: string, isAttribute = false): string {
    const max = isAttribute ? this.limits.maxAttributeValueLength : this.limits.maxNameLength;
    return value.length > max ? value.slice(0, max) : value;
  }
}

/**
 * Whether `raw` has attributes, or a count of dropped ones (sent alone when a limit of 0 dropped them all). A count
 * of 0 alone is no reason to read them: the protobuf decoder writes one on every event and link.
 */
function hasAttributes(raw: Record<string, unknown>): boolean {
  return raw.attributes !== undefined || !!uint32(raw.droppedAttributesCount);
}

/**
 * A double as the protobuf JSON mapping writes one: a number, or a string holding one or `NaN`, `Infinity`,
 * `-Infinity`; undefined for anything else.
 */
function double(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  return /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(value) ? Number(value) : undefined;
}

/**
 * At most 512 characters of a W3C trace state, cut between its entries: a cut inside one (`ot=th:c8` becoming
 * `ot=th`) would change what it says.
 */
function traceState(value: string): string {
  if (value.length <= 512) return value;
  let kept = '';
  for (const entry of value.split(',')) {
    const next = kept ? `${kept},${entry}` : entry;
    if (next.length > 512) break;
    kept = next;
  }
  return kept;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHexId(value: unknown, shape: RegExp): value is string {
  return typeof value === 'string' && shape.test(value);
}

function id(value: unknown, shape: RegExp, field: string): string {
  if (!isHexId(value, shape) || ZERO_ID.test(value)) {
    throw new SpanRejected(`${field} is not a non-zero hex id of the right length`);
  }
  return value.toLowerCase();
}

/** OTLP/JSON allows int64 nanoseconds as a decimal string or a number. */
function timestamp(value: unknown, field: string): string {
  if (typeof value === 'string' && isUnsignedDecimal(value)) return value;
  // Numbers this large have already lost their last digits in JSON.parse; accept them as they are.
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value).toString();
  throw new SpanRejected(`${field} is not an unsigned nanosecond timestamp`);
}

/** `^\d{1,20}$` without a regular expression: this runs for every span and event timestamp. */
function isUnsignedDecimal(value: string): boolean {
  if (value.length === 0 || value.length > 20) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** A uint32 field: a number, or its decimal string, which proto3's JSON mapping accepts too. */
function uint32(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

/** A dropped count: what the sender dropped and what validation drops, at most what the field can hold. */
function droppedCount(sent: unknown, droppedHere: number): number {
  return Math.min(0xffffffff, (uint32(sent) ?? 0) + droppedHere);
}
