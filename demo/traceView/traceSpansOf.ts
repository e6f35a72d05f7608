/**
 * Turns OTLP resource spans into the view's flat `TraceSpan` list. Accepts both JSON forms a source meets:
 * OTLP/JSON as `@rumkit/otlp` decodes it (hex ids, numeric enums) and Tempo's protobuf-JSON (base64 ids,
 * enum names, `instrumentationLibrarySpans` in older versions).
 *
 *     const spans = resourceSpans.flatMap(traceSpansOf);
 */
import type { SpanKindName, TraceSpan } from './traceSource.ts';

type KeyValue = { key: string; value?: AnyValue };
type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  /** Tempo and OTLP/JSON write NaN and ±Infinity as strings. */
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
};
type JsonSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: string | number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  status?: { code?: string | number; message?: string };
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
};
export type JsonResourceSpans = {
  resource?: { attributes?: KeyValue[] };
  scopeSpans?: { spans?: JsonSpan[] }[];
  instrumentationLibrarySpans?: { spans?: JsonSpan[] }[];
};

const SPAN_KINDS: [SpanKindName, ...SpanKindName[]] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];
const STATUS_CODES = ['unset', 'ok', 'error'] as const;

export function traceSpansOf(resourceSpans: JsonResourceSpans): TraceSpan[] {
  const resource = attributesToObject(resourceSpans.resource?.attributes);
  const scopes = resourceSpans.scopeSpans ?? resourceSpans.instrumentationLibrarySpans ?? [];
  return scopes.flatMap((scope) => scope.spans ?? []).map((span) => toTraceSpan(span, resource));
}

/** Accepts an OTLP id as hex or base64 (told apart by length) and returns lowercase hex. */
function idToHex(id: string, byteLength: 8 | 16): string {
  if (id.length === byteLength * 2 && /^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function toTraceSpan(span: JsonSpan, resource: Record<string, unknown>): TraceSpan {
  const parent = span.parentSpanId ? idToHex(span.parentSpanId, 8) : undefined;
  return {
    traceId: idToHex(span.traceId, 16),
    spanId: idToHex(span.spanId, 8),
    ...(parent && parent !== '0000000000000000' ? { parentSpanId: parent } : {}),
    name: span.name,
    kind: enumName(span.kind, SPAN_KINDS, 'SPAN_KIND_'),
    serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : undefined,
    startTimeUnixNano: String(span.startTimeUnixNano),
    endTimeUnixNano: String(span.endTimeUnixNano),
    status: {
      code: enumName(span.status?.code, STATUS_CODES, 'STATUS_CODE_'),
      ...(span.status?.message ? { message: span.status.message } : {}),
    },
    attributes: attributesToObject(span.attributes),
    resource,
    events: (span.events ?? []).map((event) => ({
      name: event.name,
      attributes: attributesToObject(event.attributes),
    })),
  };
}

/** Maps a protobuf enum, sent as its number or its name, to our name; unknown values map to the first (the zero value). */
function enumName<T extends string>(
  value: string | number | undefined,
  names: readonly [T, ...T[]],
  prefix: string,
): T {
  const name = typeof value === 'number' ? names[value] : (value ?? '').replace(prefix, '').toLowerCase();
  return names.find((candidate) => candidate === name) ?? names[0];
}

function attributesToObject(attributes: KeyValue[] = []): Record<string, unknown> {
  return Object.fromEntries(attributes.map(({ key, value }) => [key, anyValueToJs(value)]));
}

function anyValueToJs(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValueToJs);
  if (value.kvlistValue) return attributesToObject(value.kvlistValue.values);
  return undefined;
}
