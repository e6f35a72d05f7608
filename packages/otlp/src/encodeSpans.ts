/**
 * Encodes finished OpenTelemetry SDK spans (`ReadableSpan`) as an OTLP/JSON export request.
 *
 * The shapes below are structural, so the agent passes SDK spans without this package depending on the
 * SDK. It is a few hundred bytes where `@opentelemetry/otlp-transformer` costs kilobytes in the browser.
 *
 *     fetch(url, { method: 'POST', body: JSON.stringify(encodeSpans(spans)) });
 */
import type {
  AnyValue,
  ExportTraceServiceRequest,
  KeyValue,
  NonFinite,
  ResourceSpans,
  ScopeSpans,
  Span,
} from './types.ts';

/** `[seconds, nanoseconds]`, as the SDK records time. */
export type HrTime = readonly [number, number];

export type AttributeValue =
  | string
  | number
  | boolean
  | ReadonlyArray<string | number | boolean | null | undefined>
  | null
  | undefined;

export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean | undefined;
  traceState?: { serialize(): string } | undefined;
}

export interface ReadableSpanLike {
  name: string;
  /** The API's SpanKind (INTERNAL = 0); OTLP's numbering is one higher. */
  kind: number;
  spanContext(): SpanContextLike;
  parentSpanContext?: SpanContextLike | undefined;
  startTime: HrTime;
  endTime: HrTime;
  status: { code: number; message?: string | undefined };
  attributes: Attributes;
  links: ReadonlyArray<{
    context: SpanContextLike;
    attributes?: Attributes | undefined;
    droppedAttributesCount?: number;
  }>;
  events: ReadonlyArray<{
    name: string;
    time: HrTime;
    attributes?: Attributes | undefined;
    droppedAttributesCount?: number;
  }>;
  resource: { attributes: Attributes };
  instrumentationScope: { name: string; version?: string | undefined; schemaUrl?: string | undefined };
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
}

export function encodeSpans(spans: readonly ReadableSpanLike[]): ExportTraceServiceRequest {
  const byResource = new Map<ReadableSpanLike['resource'], Map<string, ScopeSpans>>();
  for (const span of spans) {
    let scopes = byResource.get(span.resource);
    if (!scopes) {
      scopes = new Map();
      byResource.set(span.resource, scopes);
    }
    const { name, version, schemaUrl } = span.instrumentationScope;
    const scopeKey = `${name}@${version ?? ''} ${schemaUrl ?? ''}`;
    let scope = scopes.get(scopeKey);
    if (!scope) {
      scope = { scope: { name, ...(version ? { version } : {}) }, spans: [], ...(schemaUrl ? { schemaUrl } : {}) };
      scopes.set(scopeKey, scope);
    }
    scope.spans.push(encodeSpan(span));
  }
  const resourceSpans: ResourceSpans[] = [];
  for (const [resource, scopes] of byResource) {
    resourceSpans.push({
      resource: { attributes: encodeAttributes(resource.attributes) },
      scopeSpans: [...scopes.values()],
    });
  }
  return { resourceSpans };
}

export function encodeSpan(span: ReadableSpanLike): Span {
  const context = span.spanContext();
  const traceState = context.traceState?.serialize();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    ...(traceState ? { traceState } : {}),
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    flags: spanFlags(context.traceFlags, span.parentSpanContext?.isRemote),
    name: span.name,
    kind: (span.kind + 1) as Span['kind'],
    startTimeUnixNano: hrTimeToNanos(span.startTime),
    endTimeUnixNano: hrTimeToNanos(span.endTime),
    attributes: encodeAttributes(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({
      timeUnixNano: hrTimeToNanos(e.time),
      name: e.name,
      attributes: encodeAttributes(e.attributes),
      droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links.map((l) => {
      const linkState = l.context.traceState?.serialize();
      return {
        traceId: l.context.traceId,
        spanId: l.context.spanId,
        ...(linkState ? { traceState: linkState } : {}),
        flags: spanFlags(l.context.traceFlags, l.context.isRemote),
        attributes: encodeAttributes(l.attributes),
        droppedAttributesCount: l.droppedAttributesCount ?? 0,
      };
    }),
    droppedLinksCount: span.droppedLinksCount,
    status: { code: span.status.code as 0 | 1 | 2, ...(span.status.message ? { message: span.status.message } : {}) },
  };
}

/** W3C trace flags plus OTLP's bits 8 and 9: "whether the parent is remote is known", and whether it is. */
function spanFlags(traceFlags: number, parentIsRemote: boolean | undefined): number {
  return traceFlags | 0x100 | (parentIsRemote ? 0x200 : 0);
}

/** Nanoseconds since the epoch as a decimal string; int64 does not fit a JS number. */
export function hrTimeToNanos([seconds, nanos]: HrTime): string {
  return seconds > 0 ? `${seconds}${String(nanos).padStart(9, '0')}` : String(nanos);
}

export function encodeAttributes(attributes: Attributes | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in attributes) {
    const value = encodeValue(attributes[key]);
    if (value) out.push({ key, value });
  }
  return out;
}

export function encodeValue(value: AttributeValue): AnyValue | undefined {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      if (Number.isInteger(value)) return { intValue: value };
      // JSON.stringify would write NaN and ±Infinity as null, which the edge drops.
      return { doubleValue: Number.isFinite(value) ? value : (String(value) as NonFinite) };
    case 'object':
      if (Array.isArray(value)) {
        return { arrayValue: { values: value.map((v) => encodeValue(v) ?? {}) } };
      }
  }
  return undefined;
}
