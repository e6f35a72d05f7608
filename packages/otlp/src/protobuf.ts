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
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;
const DEFAULT_MAX_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// ---------------------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = 0;
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly maxDepth: number;
  constructor(buf: Uint8Array, maxDepth: number) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.maxDepth = maxDepth;
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

  fixed64String(): string {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value.toString();
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
    const bytes = this.bytes();
    // TextDecoder costs more per call than short strings cost to build by hand; most keys and values
    // are short ASCII.
    if (bytes.length < 64) {
      let out = '';
      for (const byte of bytes) {
        if (byte >= 0x80) return decodeUtf8(bytes);
        out += String.fromCharCode(byte);
      }
      return out;
    }
    return decodeUtf8(bytes);
  }

  hex(): string {
    const bytes = this.bytes();
    let out = '';
    for (const byte of bytes) out += HEX[byte];
    return out;
  }

  skip(wireType: number): void {
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
      default:
        throw new ProtobufError(`unsupported wire type ${wireType}`);
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

/** Reads the fields of one message until `end`, handing each (field number, wire type) to `onField`. */
function readFields(r: Reader, end: number, onField: (field: number, wireType: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new ProtobufError('field number 0');
    if (!onField(field, wireType)) r.skip(wireType);
  }
  if (r.pos !== end) throw new ProtobufError('submessage length does not match its fields');
}

export function decodeTraceRequest(bytes: Uint8Array, options: DecodeOptions = {}): ExportTraceServiceRequest {
  const r = new Reader(bytes, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  const resourceSpans: ResourceSpans[] = [];
  readFields(r, bytes.length, (field, wire) => {
    if (field === 1 && wire === WIRE_BYTES) resourceSpans.push(readResourceSpans(r, r.delimited()));
    else return false;
    return true;
  });
  return { resourceSpans };
}

function readResourceSpans(r: Reader, end: number): ResourceSpans {
  const out: ResourceSpans = { scopeSpans: [] };
  readFields(r, end, (field, wire) => {
    if (wire !== WIRE_BYTES) return false;
    if (field === 1) out.resource = readResource(r, r.delimited());
    else if (field === 2) out.scopeSpans.push(readScopeSpans(r, r.delimited()));
    else if (field === 3) out.schemaUrl = r.string();
    else return false;
    return true;
  });
  return out;
}

function readResource(r: Reader, end: number): Resource {
  const out: Resource = { attributes: [] };
  readFields(r, end, (field, wire) => {
    if (field === 1 && wire === WIRE_BYTES) out.attributes.push(readKeyValue(r, r.delimited(), 0));
    else if (field === 2 && wire === WIRE_VARINT) out.droppedAttributesCount = r.varint();
    else return false;
    return true;
  });
  return out;
}

function readScopeSpans(r: Reader, end: number): ScopeSpans {
  const out: ScopeSpans = { spans: [] };
  readFields(r, end, (field, wire) => {
    if (wire !== WIRE_BYTES) return false;
    if (field === 1) out.scope = readScope(r, r.delimited());
    else if (field === 2) out.spans.push(readSpan(r, r.delimited()));
    else if (field === 3) out.schemaUrl = r.string();
    else return false;
    return true;
  });
  return out;
}

function readScope(r: Reader, end: number): InstrumentationScope {
  const out: InstrumentationScope = { name: '' };
  readFields(r, end, (field, wire) => {
    if (field === 1 && wire === WIRE_BYTES) out.name = r.string();
    else if (field === 2 && wire === WIRE_BYTES) out.version = r.string();
    else if (field === 3 && wire === WIRE_BYTES) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
    else if (field === 4 && wire === WIRE_VARINT) out.droppedAttributesCount = r.varint();
    else return false;
    return true;
  });
  return out;
}

function readSpan(r: Reader, end: number): Span {
  const out: Span = { traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0' };
  readFields(r, end, (field, wire) => {
    if (wire === WIRE_BYTES) {
      if (field === 1) out.traceId = r.hex();
      else if (field === 2) out.spanId = r.hex();
      else if (field === 3) out.traceState = r.string();
      else if (field === 4) {
        const parent = r.hex();
        if (parent) out.parentSpanId = parent;
      } else if (field === 5) out.name = r.string();
      else if (field === 9) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
      else if (field === 11) append(out, 'events', readEvent(r, r.delimited()));
      else if (field === 13) append(out, 'links', readLink(r, r.delimited()));
      else if (field === 15) out.status = readStatus(r, r.delimited());
      else return false;
    } else if (wire === WIRE_VARINT) {
      if (field === 6) out.kind = r.varint() as Span['kind'];
      else if (field === 10) out.droppedAttributesCount = r.varint();
      else if (field === 12) out.droppedEventsCount = r.varint();
      else if (field === 14) out.droppedLinksCount = r.varint();
      else return false;
    } else if (wire === WIRE_FIXED64) {
      if (field === 7) out.startTimeUnixNano = r.fixed64String();
      else if (field === 8) out.endTimeUnixNano = r.fixed64String();
      else return false;
    } else if (wire === WIRE_FIXED32 && field === 16) out.flags = r.fixed32();
    else return false;
    return true;
  });
  return out;
}

function readEvent(r: Reader, end: number): SpanEvent {
  const out: SpanEvent = { timeUnixNano: '0', name: '' };
  readFields(r, end, (field, wire) => {
    if (field === 1 && wire === WIRE_FIXED64) out.timeUnixNano = r.fixed64String();
    else if (field === 2 && wire === WIRE_BYTES) out.name = r.string();
    else if (field === 3 && wire === WIRE_BYTES) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
    else if (field === 4 && wire === WIRE_VARINT) out.droppedAttributesCount = r.varint();
    else return false;
    return true;
  });
  return out;
}

function readLink(r: Reader, end: number): SpanLink {
  const out: SpanLink = { traceId: '', spanId: '' };
  readFields(r, end, (field, wire) => {
    if (field === 1 && wire === WIRE_BYTES) out.traceId = r.hex();
    else if (field === 2 && wire === WIRE_BYTES) out.spanId = r.hex();
    else if (field === 3 && wire === WIRE_BYTES) out.traceState = r.string();
    else if (field === 4 && wire === WIRE_BYTES) append(out, 'attributes', readKeyValue(r, r.delimited(), 0));
    else if (field === 5 && wire === WIRE_VARINT) out.droppedAttributesCount = r.varint();
    else if (field === 6 && wire === WIRE_FIXED32) out.flags = r.fixed32();
    else return false;
    return true;
  });
  return out;
}

function readStatus(r: Reader, end: number): Status {
  const out: Status = {};
  readFields(r, end, (field, wire) => {
    if (field === 2 && wire === WIRE_BYTES) out.message = r.string();
    else if (field === 3 && wire === WIRE_VARINT) out.code = r.varint() as Status['code'];
    else return false;
    return true;
  });
  return out;
}

function readKeyValue(r: Reader, end: number, depth: number): KeyValue {
  const out: KeyValue = { key: '', value: {} };
  readFields(r, end, (field, wire) => {
    if (field === 1 && wire === WIRE_BYTES) out.key = r.string();
    else if (field === 2 && wire === WIRE_BYTES) out.value = readAnyValue(r, r.delimited(), depth);
    else return false;
    return true;
  });
  return out;
}

function readAnyValue(r: Reader, end: number, depth: number): AnyValue {
  if (depth > r.maxDepth) throw new ProtobufError(`attribute values nest deeper than ${r.maxDepth} levels`);
  const out: AnyValue = {};
  readFields(r, end, (field, wire) => {
    if (field === 1 && wire === WIRE_BYTES) out.stringValue = r.string();
    else if (field === 2 && wire === WIRE_VARINT) out.boolValue = r.varint() !== 0;
    else if (field === 3 && wire === WIRE_VARINT) out.intValue = r.varint64().toString();
    else if (field === 4 && wire === WIRE_FIXED64) out.doubleValue = r.double();
    else if (field === 5 && wire === WIRE_BYTES) {
      const values: AnyValue[] = [];
      readFields(r, r.delimited(), (f, w) => {
        if (f === 1 && w === WIRE_BYTES) values.push(readAnyValue(r, r.delimited(), depth + 1));
        else return false;
        return true;
      });
      out.arrayValue = { values };
    } else if (field === 6 && wire === WIRE_BYTES) {
      const values: KeyValue[] = [];
      readFields(r, r.delimited(), (f, w) => {
        if (f === 1 && w === WIRE_BYTES) values.push(readKeyValue(r, r.delimited(), depth + 1));
        else return false;
        return true;
      });
      out.kvlistValue = { values };
    } else if (field === 7 && wire === WIRE_BYTES) out.bytesValue = toBase64(r.bytes());
    else return false;
    return true;
  });
  return out;
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
  readFields(r, bytes.length, (field, wire) => {
    if (field !== 1 || wire !== WIRE_BYTES) return false;
    const partialSuccess: NonNullable<ExportTraceServiceResponse['partialSuccess']> = {};
    readFields(r, r.delimited(), (f, w) => {
      if (f === 1 && w === WIRE_VARINT) partialSuccess.rejectedSpans = r.varint64().toString();
      else if (f === 2 && w === WIRE_BYTES) partialSuccess.errorMessage = r.string();
      else return false;
      return true;
    });
    out.partialSuccess = partialSuccess;
    return true;
  });
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
    // n = high × 10^9 + low with high < 2^35; every partial product below stays under 2^53.
    const split = decimal.length > 9 ? decimal.length - 9 : 0;
    let high = 0;
    for (let i = 0; i < split; i++) high = high * 10 + (decimal.charCodeAt(i) - 48);
    let low = 0;
    for (let i = split; i < decimal.length; i++) low = low * 10 + (decimal.charCodeAt(i) - 48);
    const highPart = Math.floor(high / 0x10000) * 1e9; // × 2^16 later
    const lowPart = (high % 0x10000) * 1e9 + low;
    const sum = (highPart % 0x10000) * 0x10000 + lowPart;
    const lo = sum % 0x100000000;
    const hi = (Math.floor(highPart / 0x10000) + Math.floor(sum / 0x100000000)) % 0x100000000;
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, hi, true);
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
          this.pos = start;
          this.message(() => this.utf8(value));
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
   * Writes a length-delimited body. One byte is reserved for the length, which fits bodies under 128
   * bytes; a longer body is moved up by the extra length bytes afterwards.
   */
  message(writeBody: () => void): void {
    this.ensure(1);
    const lengthAt = this.pos++;
    writeBody();
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

  field(field: number, writeBody: () => void): void {
    this.tag(field, WIRE_BYTES);
    this.message(writeBody);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function encodeTraceRequest(request: ExportTraceServiceRequest): Uint8Array {
  const w = new Writer();
  for (const rs of request.resourceSpans) w.field(1, () => writeResourceSpans(w, rs));
  return w.finish();
}

function writeResourceSpans(w: Writer, rs: ResourceSpans): void {
  const { resource } = rs;
  if (resource) {
    w.field(1, () => {
      writeAttributes(w, 1, resource.attributes);
      writeUint(w, 2, resource.droppedAttributesCount);
    });
  }
  for (const ss of rs.scopeSpans) w.field(2, () => writeScopeSpans(w, ss));
  if (rs.schemaUrl) w.string(3, rs.schemaUrl);
}

function writeScopeSpans(w: Writer, ss: ScopeSpans): void {
  const { scope } = ss;
  if (scope) {
    w.field(1, () => {
      if (scope.name) w.string(1, scope.name);
      if (scope.version) w.string(2, scope.version);
      writeAttributes(w, 3, scope.attributes);
      writeUint(w, 4, scope.droppedAttributesCount);
    });
  }
  for (const span of ss.spans) w.field(2, () => writeSpan(w, span));
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
  for (const event of span.events ?? []) {
    w.field(11, () => {
      w.tag(1, WIRE_FIXED64);
      w.fixed64(event.timeUnixNano);
      if (event.name) w.string(2, event.name);
      writeAttributes(w, 3, event.attributes);
      writeUint(w, 4, event.droppedAttributesCount);
    });
  }
  writeUint(w, 12, span.droppedEventsCount);
  for (const link of span.links ?? []) {
    w.field(13, () => {
      w.hex(1, link.traceId);
      w.hex(2, link.spanId);
      if (link.traceState) w.string(3, link.traceState);
      writeAttributes(w, 4, link.attributes);
      writeUint(w, 5, link.droppedAttributesCount);
      if (link.flags) {
        w.tag(6, WIRE_FIXED32);
        w.fixed32(link.flags);
      }
    });
  }
  writeUint(w, 14, span.droppedLinksCount);
  const { status } = span;
  if (status && (status.code || status.message)) {
    w.field(15, () => {
      if (status.message) w.string(2, status.message);
      writeUint(w, 3, status.code);
    });
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
  for (const kv of attributes) w.field(field, () => writeKeyValue(w, kv));
}

function writeKeyValue(w: Writer, kv: KeyValue): void {
  if (kv.key) w.string(1, kv.key);
  w.field(2, () => writeAnyValue(w, kv.value));
}

function writeAnyValue(w: Writer, value: AnyValue): void {
  if (value.stringValue !== undefined) w.string(1, value.stringValue);
  else if (value.boolValue !== undefined) {
    w.tag(2, WIRE_VARINT);
    w.varint(value.boolValue ? 1 : 0);
  } else if (value.intValue !== undefined) {
    w.tag(3, WIRE_VARINT);
    w.varint64(BigInt(value.intValue));
  } else if (value.doubleValue !== undefined) {
    w.tag(4, WIRE_FIXED64);
    w.double(value.doubleValue);
  } else if (value.arrayValue) {
    const { values } = value.arrayValue;
    w.field(5, () => {
      for (const item of values) w.field(1, () => writeAnyValue(w, item));
    });
  } else if (value.kvlistValue) {
    const { values } = value.kvlistValue;
    w.field(6, () => {
      for (const kv of values) w.field(1, () => writeKeyValue(w, kv));
    });
  } else if (value.bytesValue !== undefined) w.bytes(7, fromBase64(value.bytesValue));
}

export function encodeTraceResponse(response: ExportTraceServiceResponse): Uint8Array {
  const w = new Writer();
  const partial = response.partialSuccess;
  if (partial && (partial.rejectedSpans || partial.errorMessage)) {
    w.field(1, () => {
      if (partial.rejectedSpans) {
        w.tag(1, WIRE_VARINT);
        w.varint64(BigInt(partial.rejectedSpans));
      }
      if (partial.errorMessage) w.string(2, partial.errorMessage);
    });
  }
  return w.finish();
}

function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}
