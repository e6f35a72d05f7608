/**
 * OTLP trace protobuf ⇄ the OTLP/JSON shape of ./types.ts, for `opentelemetry-proto` `trace/v1`.
 *
 * Hand-written over the wire format rather than generated with protobufjs: its reflection codegen calls
 * `new Function`, which Cloudflare Workers forbid, and its decoder recurses without bound (a 10,000-deep
 * kvlist overflows the stack). Here nesting is capped, every length is checked against the buffer, and
 * unknown fields are skipped, so hostile input ends in a `ProtobufError`, never a crash.
 *
 *     const request = decodeTraceRequest(body);              // throws ProtobufError on bad input
 *     const bytes = encodeTraceRequest(request);
 */

import { fromBase64, toBase64 } from './base64.ts';
import type {
  AnyValue,
  ExportTraceServiceRequest,
  ExportTraceServiceResponse,
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

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

export interface DecodeOptions {
  /** Deepest array/kvlist nesting accepted inside one attribute value. */
  maxDepth?: number;
  /**
   * Spans decoded in full; the ones after them are skipped unread and stand in the request as empty
   * objects, so the validate stage, which refuses spans past the same limit unread, counts them as rejected
   * without this decoder having built them (a small gzip body can hold a million spans).
   */
  maxSpans?: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
const DEFAULT_MAX_DEPTH = 32;

// `ignoreBOM`: a string that starts with U+FEFF keeps it (the default strips it as a byte-order mark).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
/** The character codes of `0123456789abcdef`. */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** An id's bytes turned into hex at most: one more than the longest valid id, so that a longer one stays invalid. */
const MAX_HEX_BYTES = 17;
/** Scratch for `Reader.hex`. */
const hexCodes = new Uint16Array(MAX_HEX_BYTES * 2);

// ---------------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = 0;
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly maxDepth: number;
  /** Spans still to be built; the rest are skipped. */
  spansLeft: number;
  constructor(buf: Uint8Array, maxDepth: number, maxSpans = 0) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.maxDepth = maxDepth;
    this.spansLeft = maxSpans;
  }

  varint(): number {
    // Fields read as numbers (lengths, enums, counts, bools) fit in 32 bits; larger values are truncated
    // the way protobuf truncates an int64 read as int32.
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const byte = this.buf[this.pos++] as number;
      if (shift < 32) result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  varint64(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const byte = this.buf[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, result);
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** An int64 varint as a decimal string; small non-negative values, the usual ones, without BigInt. */
  int64String(): string {
    let value = 0;
    let scale = 1;
    // Up to 7 bytes hold 49 bits, exact in a double.
    for (let i = 0; i < 7 && this.pos + i < this.buf.length; i++, scale *= 0x80) {
      const byte = this.buf[this.pos + i] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos += i + 1;
        return String(value);
      }
    }
    return this.varint64().toString();
  }

  /** An unsigned fixed64 (a timestamp) as a decimal string, without BigInt, which is slow per value. */
  fixed64String(): string {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    if (hi < 0x200000) return String(hi * 0x100000000 + lo); // under 2^53: exact
    // Long division by 10^9, one 16-bit limb at a time: every intermediate stays under 2^53.
    let quotient = 0;
    let rest = 0;
    for (let shift = 48; shift >= 0; shift -= 16) {
      const limb = shift >= 32 ? (hi >>> (shift - 32)) & 0xffff : (lo >>> shift) & 0xffff;
      const current = rest * 0x10000 + limb;
      const digit = Math.floor(current / 1e9);
      rest = current - digit * 1e9;
      quotient = quotient * 0x10000 + digit;
    }
    return `${quotient}${String(rest).padStart(9, '0')}`;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** End offset of a length-delimited field that starts here. */
  delimited(): number {
    const length = this.varint();
    this.need(length);
    return this.pos + length;
  }

  bytes(): Uint8Array {
    const end = this.delimited();
    const bytes = this.buf.subarray(this.pos, end);
    this.pos = end;
    return bytes;
  }

  string(): string {
    const end = this.delimited();
    const start = this.pos;
    this.pos = end;
    // Most keys and values are short ASCII, which TextDecoder costs more per call to read than this. One
    // fromCharCode over the bytes makes a flat string; appending a character at a time made a rope, which the
    // stages after (regular expressions, Map keys) then had to flatten.
    if (end - start < 64) {
      for (let i = start; i < end; i++) {
        if ((this.buf[i] as number) >= 0x80) return decodeUtf8(this.buf.subarray(start, end));
      }
      return String.fromCharCode.apply(null, this.buf.subarray(start, end) as unknown as number[]);
    }
    return decodeUtf8(this.buf.subarray(start, end));
  }

  hex(): string {
    const end = this.delimited();
    // Character codes first and one string from them, flat (see `string`). Ids are 16 bytes at most: a longer
    // one is written as its first 17, still the wrong length for validation to reject its span, and never
    // spread into a call whose arguments would overflow the stack (62,552 bytes did).
    const length = Math.min(end - this.pos, MAX_HEX_BYTES);
    for (let i = 0; i < length; i++) {
      const byte = this.buf[this.pos + i] as number;
      hexCodes[2 * i] = HEX_DIGITS[byte >>> 4] as number;
      hexCodes[2 * i + 1] = HEX_DIGITS[byte & 15] as number;
    }
    this.pos = end;
    return String.fromCharCode.apply(null, hexCodes.subarray(0, length * 2) as unknown as number[]);
  }

  /**
   * The tag of the next field before `end`, or 0 once the message is read, checking that its fields
   * ended exactly at `end`. Field number 0 is invalid, so a real tag is never 0.
   */
  next(end: number): number {
    if (this.pos < end) {
      const tag = this.varint();
      if (tag >>> 3 === 0) throw new ProtobufError('field number 0');
      return tag;
    }
    if (this.pos !== end) throw new ProtobufError('submessage length does not match its fields');
    return 0;
  }

  /** Skips the field whose tag was just read. */
  skip(tag: number): void {
    const wireType = tag & 7;
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_BYTES:
        this.pos = this.delimited();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      case WIRE_START_GROUP:
        this.skipGroup(tag >>> 3, 1);
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
  }

  /**
   * Skips an unknown group (proto2's, which a sender's newer or older schema may carry) to its end tag, groups
   * inside it too, nested no deeper than values may be.
   */
  skipGroup(field: number, depth: number): void {
    if (depth > this.maxDepth) throw new ProtobufError('groups nested too deep');
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError('a group has no end');
      const tag = this.varint();
      const wireType = tag & 7;
      if (wireType === WIRE_END_GROUP) {
        if (tag >>> 3 !== field) throw new ProtobufError('a group ends with another field number');
        return;
      }
      if (tag >>> 3 === 0) throw new ProtobufError('field number 0');
      if (wireType === WIRE_START_GROUP) this.skipGroup(tag >>> 3, depth + 1);
      else this.skip(tag);
    }
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtobufError('field runs past the end of the message');
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtobufError('string field is not valid UTF-8');
  }
}

/** A field's tag: its number and wire type, as the wire carries them. */
function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

const T1_BYTES = tag(1, WIRE_BYTES);
const T2_BYTES = tag(2, WIRE_BYTES);
const T3_BYTES = tag(3, WIRE_BYTES);
const T4_BYTES = tag(4, WIRE_BYTES);
const T5_BYTES = tag(5, WIRE_BYTES);
const T6_BYTES = tag(6, WIRE_BYTES);
const T7_BYTES = tag(7, WIRE_BYTES);
const T9_BYTES = tag(9, WIRE_BYTES);
const T11_BYTES = tag(11, WIRE_BYTES);
const T13_BYTES = tag(13, WIRE_BYTES);
const T15_BYTES = tag(15, WIRE_BYTES);
const T1_VARINT = tag(1, WIRE_VARINT);
const T2_VARINT = tag(2, WIRE_VARINT);
const T3_VARINT = tag(3, WIRE_VARINT);
const T4_VARINT = tag(4, WIRE_VARINT);
const T5_VARINT = tag(5, WIRE_VARINT);
const T6_VARINT = tag(6, WIRE_VARINT);
const T10_VARINT = tag(10, WIRE_VARINT);
const T12_VARINT = tag(12, WIRE_VARINT);
const T14_VARINT = tag(14, WIRE_VARINT);
const T1_FIXED64 = tag(1, WIRE_FIXED64);
const T4_FIXED64 = tag(4, WIRE_FIXED64);
const T7_FIXED64 = tag(7, WIRE_FIXED64);
const T8_FIXED64 = tag(8, WIRE_FIXED64);
const T6_FIXED32 = tag(6, WIRE_FIXED32);
const T16_FIXED32 = tag(16, WIRE_FIXED32);

export function decodeTraceRequest(bytes: Uint8Array, options: DecodeOptions = {}): ExportTraceServiceRequest {
  const r = new Reader(bytes, options.maxDepth ?? DEFAULT_MAX_DEPTH, options.maxSpans ?? Number.POSITIVE_INFINITY);
  const resourceSpans: ResourceSpans[] = [];
  for (let t = r.next(bytes.length); t; t = r.next(bytes.length)) {
    if (t === T1_BYTES) resourceSpans.push(readResourceSpans(r, r.delimited()));
    else r.skip(t);
  }
  return { resourceSpans };
}

function readResourceSpans(r: Reader, end: number): ResourceSpans {
  const out: ResourceSpans = { scopeSpans: [] };
  for (let t = r.next(end); t; t = r.next(end)) {
    // A message field sent twice is one message, the second merged into the first, as protobuf reads it.
    if (t === T1_BYTES) out.resource = readResource(r, r.delimited(), out.resource);
    else if (t === T2_BYTES) out.scopeSpans.push(readScopeSpans(r, r.delimited()));
    else if (t === T3_BYTES) out.schemaUrl = r.string();
    else r.skip(t);
  }
  return out;
}

function readResource(r: Reader, end: number, into?: Resource): Resource {
  const out: Resource = into ?? { attributes: [] };
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T1_BYTES) out.attributes.push(readKeyValue(r, r.delimited(), 0));
    else if (t === T2_VARINT) out.droppedAttributesCount = r.varint();
    else r.skip(t);
  }
  return out;
}

function readScopeSpans(r: Reader, end: number): ScopeSpans {
  const out: ScopeSpans = { spans: [] };
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T1_BYTES) out.scope = readScope(r, r.delimited(), out.scope);
    else if (t === T2_BYTES) out.spans.push(r.spansLeft-- > 0 ? readSpan(r, r.delimited()) : skipSpan(r));
    else if (t === T3_BYTES) out.schemaUrl = r.string();
    else r.skip(t);
  }
  return out;
}

const SKIPPED_SPAN = Object.freeze({}) as Span;

function skipSpan(r: Reader): Span {
  r.pos = r.delimited();
  return SKIPPED_SPAN;
}

function readScope(r: Reader, end: number, into?: InstrumentationScope): InstrumentationScope {
  const out: InstrumentationScope = into ?? { name: '' };
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T1_BYTES) out.name = r.string();
    else if (t === T2_BYTES) out.version = r.string();
    else if (t === T3_BYTES) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
    else if (t === T4_VARINT) out.droppedAttributesCount = r.varint();
    else r.skip(t);
  }
  return out;
}

function readSpan(r: Reader, end: number): Span {
  const out: Span = { traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0' };
  for (let t = r.next(end); t; t = r.next(end)) {
    switch (t) {
      case T1_BYTES:
        out.traceId = r.hex();
        break;
      case T2_BYTES:
        out.spanId = r.hex();
        break;
      case T3_BYTES:
        out.traceState = r.string();
        break;
      case T4_BYTES: {
        const parent = r.hex();
        if (parent) out.parentSpanId = parent;
        break;
      }
      case T5_BYTES:
        out.name = r.string();
        break;
      case T6_VARINT:
        out.kind = r.varint() as Span['kind'];
        break;
      case T7_FIXED64:
        out.startTimeUnixNano = r.fixed64String();
        break;
      case T8_FIXED64:
        out.endTimeUnixNano = r.fixed64String();
        break;
      case T9_BYTES:
        append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
        break;
      case T10_VARINT:
        out.droppedAttributesCount = r.varint();
        break;
      case T11_BYTES:
        append(out, 'events', readEvent(r, r.delimited()));
        break;
      case T12_VARINT:
        out.droppedEventsCount = r.varint();
        break;
      case T13_BYTES:
        append(out, 'links', readLink(r, r.delimited()));
        break;
      case T14_VARINT:
        out.droppedLinksCount = r.varint();
        break;
      case T15_BYTES:
        out.status = readStatus(r, r.delimited(), out.status);
        break;
      case T16_FIXED32:
        out.flags = r.fixed32();
        break;
      default:
        r.skip(t);
    }
  }
  return out;
}

function readEvent(r: Reader, end: number): SpanEvent {
  const out: SpanEvent = { timeUnixNano: '0', name: '' };
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T1_FIXED64) out.timeUnixNano = r.fixed64String();
    else if (t === T2_BYTES) out.name = r.string();
    else if (t === T3_BYTES) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
    else if (t === T4_VARINT) out.droppedAttributesCount = r.varint();
    else r.skip(t);
  }
  return out;
}

function readLink(r: Reader, end: number): SpanLink {
  const out: SpanLink = { traceId: '', spanId: '' };
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T1_BYTES) out.traceId = r.hex();
    else if (t === T2_BYTES) out.spanId = r.hex();
    else if (t === T3_BYTES) out.traceState = r.string();
    else if (t === T4_BYTES) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
    else if (t === T5_VARINT) out.droppedAttributesCount = r.varint();
    else if (t === T6_FIXED32) out.flags = r.fixed32();
    else r.skip(t);
  }
  return out;
}

function readStatus(r: Reader, end: number, into?: Status): Status {
  const out: Status = into ?? {};
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T2_BYTES) out.message = r.string();
    else if (t === T3_VARINT) out.code = r.varint() as Status['code'];
    else r.skip(t);
  }
  return out;
}

function readKeyValue(r: Reader, end: number, depth: number): KeyValue {
  const out: KeyValue = { key: '', value: {} };
  for (let t = r.next(end); t; t = r.next(end)) {
    if (t === T1_BYTES) out.key = r.string();
    else if (t === T2_BYTES) out.value = readAnyValue(r, r.delimited(), depth, out.value);
    else r.skip(t);
  }
  return out;
}

/**
 * An AnyValue is a oneof: the last member read is its value, whichever came before, in this message or in an
 * earlier copy of it (`into`) that this one is merged into, as protobuf reads a message field sent twice.
 */
function readAnyValue(r: Reader, end: number, depth: number, into?: AnyValue): AnyValue {
  if (depth > r.maxDepth) {
    // Left unread, so that no nesting can overflow the stack, as an empty list that validation refuses as too deep
    // (dropping the attribute, as it drops one nested too deeply in JSON) rather than the whole request.
    r.pos = end;
    return { kvlistValue: { values: [] } };
  }
  let out = into;
  for (let t = r.next(end); t; t = r.next(end)) {
    const member = readAnyValueMember(r, t, depth);
    if (member) out = member;
    else r.skip(t);
  }
  return out ?? {};
}

/** The member of AnyValue's oneof whose tag was just read; undefined for another field, which is left unread. */
function readAnyValueMember(r: Reader, t: number, depth: number): AnyValue | undefined {
  switch (t) {
    case T1_BYTES:
      return { stringValue: r.string() };
    case T2_VARINT:
      return { boolValue: r.varint() !== 0 };
    case T3_VARINT:
      return { intValue: r.int64String() };
    case T4_FIXED64:
      return { doubleValue: r.double() };
    case T5_BYTES:
      return { arrayValue: { values: readList(r, (end) => readAnyValue(r, end, depth + 1)) } };
    case T6_BYTES:
      return { kvlistValue: { values: readList(r, (end) => readKeyValue(r, end, depth + 1)) } };
    case T7_BYTES:
      return { bytesValue: toBase64(r.bytes()) };
    default:
      return undefined;
  }
}

/** The elements (field 1) of the ArrayValue or KeyValueList whose tag was just read. */
function readList<T>(r: Reader, read: (end: number) => T): T[] {
  const values: T[] = [];
  const listEnd = r.delimited();
  for (let u = r.next(listEnd); u; u = r.next(listEnd)) {
    if (u === T1_BYTES) values.push(read(r.delimited()));
    else r.skip(u);
  }
  return values;
}

/** Adds to a repeated field that is absent until its first element. */
function append<K extends string, T>(target: Partial<Record<K, NoInfer<T>[]>>, key: K, item: T): void {
  const list = target[key];
  if (list) list.push(item);
  else target[key] = [item];
}

export function decodeTraceResponse(bytes: Uint8Array): ExportTraceServiceResponse {
  const r = new Reader(bytes, 0);
  const out: ExportTraceServiceResponse = {};
  for (let t = r.next(bytes.length); t; t = r.next(bytes.length)) {
    if (t !== T1_BYTES) {
      r.skip(t);
      continue;
    }
    const partialSuccess: NonNullable<ExportTraceServiceResponse['partialSuccess']> = {};
    const end = r.delimited();
    for (let u = r.next(end); u; u = r.next(end)) {
      if (u === T1_VARINT) partialSuccess.rejectedSpans = r.int64String();
      else if (u === T2_BYTES) partialSuccess.errorMessage = r.string();
      else r.skip(u);
    }
    out.partialSuccess = partialSuccess;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/**
 * Encoding writes into one scratch buffer kept between calls (grown as needed, so a steady stream of
 * similar batches stops reallocating) and copies out the result; encoders run one at a time.
 */
let scratch = new Uint8Array(64 * 1024);
/** A huge batch grows its own buffer but is not kept as the scratch buffer. */
const MAX_SCRATCH_BYTES = 4 * 1024 * 1024;

class Writer {
  buf = scratch;
  view = new DataView(this.buf.buffer);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    if (size <= MAX_SCRATCH_BYTES) scratch = next;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  varint(value: number): void {
    this.ensure(10);
    let v = value >>> 0;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** An int64 value as OTLP/JSON gives it; non-negative safe integers skip BigInt, which is slow per value. */
  int64(value: string | number): void {
    let n = typeof value === 'number' ? value : -1;
    if (typeof value === 'string' && value.length > 0 && value.length < 16) {
      // Up to 15 decimal digits always fit a double exactly.
      n = 0;
      for (let i = 0; i < value.length && n >= 0; i++) {
        const digit = value.charCodeAt(i) - 48;
        n = digit >= 0 && digit <= 9 ? n * 10 + digit : -1;
      }
    }
    if (!(n >= 0 && Number.isSafeInteger(n))) {
      this.varint64(BigInt(value));
      return;
    }
    this.ensure(10);
    let v = n;
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  varint64(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** An unsigned decimal string of up to 20 digits, written as fixed64 without BigInt (timestamps are hot). */
  fixed64(decimal: string): void {
    this.ensure(8);
    // The digits are read by hand: slicing and Number() on every timestamp cost more than the rest.
    // n = high × 10^9 + low with high < 2^37; high = h1 × 2^21 + h0 makes n = a + h1 × 10^9 × 2^21 with
    // a = h0 × 10^9 + low < 2^52, and h1 × 10^9 = m × 2^9 (m = h1 × 5^9) puts m × 2^30 in the words:
    // ⌊m / 4⌋ into the high one, (m mod 4) × 2^30 into the low one. Every step is exact in doubles, with no
    // floating-point remainder, which made the earlier version take 85 ns a value where this takes 33.
    const split = decimal.length > 9 ? decimal.length - 9 : 0;
    let high = 0;
    for (let i = 0; i < split; i++) high = high * 10 + (decimal.charCodeAt(i) - 48);
    let low = 0;
    for (let i = split; i < decimal.length; i++) low = low * 10 + (decimal.charCodeAt(i) - 48);
    const h1 = (high / 0x200000) >>> 0;
    const a = (high - h1 * 0x200000) * 1e9 + low;
    const aHigh = (a / 0x100000000) >>> 0;
    const m = h1 * 1953125;
    const mLow = m & 3;
    let lo = a - aHigh * 0x100000000 + mLow * 0x40000000;
    let carry = 0;
    if (lo >= 0x100000000) {
      lo -= 0x100000000;
      carry = 1;
    }
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, (aHigh + (m - mLow) / 4 + carry) >>> 0, true);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  string(field: number, value: string): void {
    this.tag(field, WIRE_BYTES);
    const length = value.length;
    // Reserve the worst case (3 bytes per UTF-16 unit) plus the length prefix, then encode in place.
    this.ensure(length * 3 + 5);
    const buf = this.buf;
    if (length < 128) {
      // ASCII by hand, into locals: TextEncoder's per-call cost dominates the short strings of spans.
      const start = this.pos;
      let pos = start + 1;
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) {
          this.pos = start + 1;
          this.utf8(value);
          this.end(start);
          return;
        }
        buf[pos++] = code;
      }
      buf[start] = length;
      this.pos = pos;
      return;
    }
    // Longer: leave room for the longest length prefix the string can need, encode, then close the gap.
    let prefix = 1;
    for (let v = (length * 3) >>> 7; v > 0; v >>>= 7) prefix++;
    const bodyAt = this.pos + prefix;
    const written = utf8Encoder.encodeInto(value, buf.subarray(bodyAt)).written;
    this.varint(written);
    if (this.pos !== bodyAt) buf.copyWithin(this.pos, bodyAt, bodyAt + written);
    this.pos += written;
  }

  utf8(value: string): void {
    this.pos += utf8Encoder.encodeInto(value, this.buf.subarray(this.pos)).written;
  }

  hex(field: number, hex: string): void {
    if (!hex) return;
    this.tag(field, WIRE_BYTES);
    const length = hex.length >>> 1;
    this.varint(length);
    this.ensure(length);
    for (let i = 0; i < length; i++) {
      this.buf[this.pos++] = (hexDigit(hex.charCodeAt(2 * i)) << 4) | hexDigit(hex.charCodeAt(2 * i + 1));
    }
  }

  bytes(field: number, bytes: Uint8Array): void {
    this.tag(field, WIRE_BYTES);
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Opens a length-delimited field and returns where its length goes, for `end`. Begin/end pairs rather
   * than a callback per field: a closure for every attribute and value was a third of the encoding time.
   */
  begin(field: number): number {
    this.tag(field, WIRE_BYTES);
    this.ensure(1);
    return this.pos++;
  }

  /**
   * Closes the field `begin` opened. One byte was reserved for the length, which fits bodies under 128
   * bytes; a longer body is moved up by the extra length bytes.
   */
  end(lengthAt: number): void {
    const length = this.pos - lengthAt - 1;
    let lengthBytes = 1;
    for (let v = length >>> 7; v > 0; v >>>= 7) lengthBytes++;
    if (lengthBytes > 1) {
      this.ensure(lengthBytes - 1);
      this.buf.copyWithin(lengthAt + lengthBytes, lengthAt + 1, this.pos);
      this.pos += lengthBytes - 1;
    }
    let v = length;
    for (let i = 0; i < lengthBytes - 1; i++, v >>>= 7) this.buf[lengthAt + i] = (v & 0x7f) | 0x80;
    this.buf[lengthAt + lengthBytes - 1] = v;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function encodeTraceRequest(request: ExportTraceServiceRequest): Uint8Array {
  const w = new Writer();
  for (const rs of request.resourceSpans) {
    const at = w.begin(1);
    writeResourceSpans(w, rs);
    w.end(at);
  }
  return w.finish();
}

function writeResourceSpans(w: Writer, rs: ResourceSpans): void {
  const { resource } = rs;
  if (resource) {
    const at = w.begin(1);
    writeAttributes(w, 1, resource.attributes);
    writeUint(w, 2, resource.droppedAttributesCount);
    w.end(at);
  }
  for (const ss of rs.scopeSpans) {
    const at = w.begin(2);
    writeScopeSpans(w, ss);
    w.end(at);
  }
  if (rs.schemaUrl) w.string(3, rs.schemaUrl);
}

function writeScopeSpans(w: Writer, ss: ScopeSpans): void {
  const { scope } = ss;
  if (scope) {
    const at = w.begin(1);
    if (scope.name) w.string(1, scope.name);
    if (scope.version) w.string(2, scope.version);
    writeAttributes(w, 3, scope.attributes);
    writeUint(w, 4, scope.droppedAttributesCount);
    w.end(at);
  }
  for (const span of ss.spans) {
    const at = w.begin(2);
    writeSpan(w, span);
    w.end(at);
  }
  if (ss.schemaUrl) w.string(3, ss.schemaUrl);
}

function writeSpan(w: Writer, span: Span): void {
  w.hex(1, span.traceId);
  w.hex(2, span.spanId);
  if (span.traceState) w.string(3, span.traceState);
  if (span.parentSpanId) w.hex(4, span.parentSpanId);
  if (span.name) w.string(5, span.name);
  writeUint(w, 6, span.kind);
  w.tag(7, WIRE_FIXED64);
  w.fixed64(span.startTimeUnixNano);
  w.tag(8, WIRE_FIXED64);
  w.fixed64(span.endTimeUnixNano);
  writeAttributes(w, 9, span.attributes);
  writeUint(w, 10, span.droppedAttributesCount);
  if (span.events) {
    for (const event of span.events) {
      const at = w.begin(11);
      w.tag(1, WIRE_FIXED64);
      w.fixed64(event.timeUnixNano);
      if (event.name) w.string(2, event.name);
      writeAttributes(w, 3, event.attributes);
      writeUint(w, 4, event.droppedAttributesCount);
      w.end(at);
    }
  }
  writeUint(w, 12, span.droppedEventsCount);
  if (span.links) {
    for (const link of span.links) {
      const at = w.begin(13);
      w.hex(1, link.traceId);
      w.hex(2, link.spanId);
      if (link.traceState) w.string(3, link.traceState);
      writeAttributes(w, 4, link.attributes);
      writeUint(w, 5, link.droppedAttributesCount);
      if (link.flags) {
        w.tag(6, WIRE_FIXED32);
        w.fixed32(link.flags);
      }
      w.end(at);
    }
  }
  writeUint(w, 14, span.droppedLinksCount);
  const { status } = span;
  if (status && (status.code || status.message)) {
    const at = w.begin(15);
    if (status.message) w.string(2, status.message);
    writeUint(w, 3, status.code);
    w.end(at);
  }
  if (span.flags) {
    w.tag(16, WIRE_FIXED32);
    w.fixed32(span.flags);
  }
}

function writeUint(w: Writer, field: number, value: number | undefined): void {
  if (!value) return;
  w.tag(field, WIRE_VARINT);
  w.varint(value);
}

function writeAttributes(w: Writer, field: number, attributes: readonly KeyValue[] | undefined): void {
  if (!attributes) return;
  for (const kv of attributes) writeKeyValue(w, field, kv);
}

function writeKeyValue(w: Writer, field: number, kv: KeyValue): void {
  const at = w.begin(field);
  if (kv.key) w.string(1, kv.key);
  writeAnyValue(w, 2, kv.value);
  w.end(at);
}

function writeAnyValue(w: Writer, field: number, value: AnyValue): void {
  const at = w.begin(field);
  if (value.stringValue !== undefined) w.string(1, value.stringValue);
  else if (value.boolValue !== undefined) {
    w.tag(2, WIRE_VARINT);
    w.varint(value.boolValue ? 1 : 0);
  } else if (value.intValue !== undefined) {
    w.tag(3, WIRE_VARINT);
    w.int64(value.intValue);
  } else if (value.doubleValue !== undefined) {
    w.tag(4, WIRE_FIXED64);
    w.double(Number(value.doubleValue));
  } else if (value.arrayValue) {
    const arrayAt = w.begin(5);
    for (const item of value.arrayValue.values) writeAnyValue(w, 1, item);
    w.end(arrayAt);
  } else if (value.kvlistValue) {
    const listAt = w.begin(6);
    for (const kv of value.kvlistValue.values) writeKeyValue(w, 1, kv);
    w.end(listAt);
  } else if (value.bytesValue !== undefined) w.bytes(7, fromBase64(value.bytesValue));
  w.end(at);
}

export function encodeTraceResponse(response: ExportTraceServiceResponse): Uint8Array {
  const w = new Writer();
  const partial = response.partialSuccess;
  if (partial && (partial.rejectedSpans || partial.errorMessage)) {
    const at = w.begin(1);
    if (partial.rejectedSpans) {
      w.tag(1, WIRE_VARINT);
      w.int64(partial.rejectedSpans);
    }
    if (partial.errorMessage) w.string(2, partial.errorMessage);
    w.end(at);
  }
  return w.finish();
}

function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}
