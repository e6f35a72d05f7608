/**
 * Reads traces back from Tempo's HTTP API in a shape tests can assert on: one flat list of
 * spans with hex ids and their service name. Tempo runs multi-tenant, so every query names
 * the tenant whose traces it reads (X-Scope-OrgID).
 *
 *   const tempo = { url: 'http://127.0.0.1:14320', tenant: 'demo' };
 *   const spans = await getTrace(tempo, traceIdHex); // undefined until stored
 *   const found = await searchTraces(tempo, '{resource.service.name="web"}');
 *
 * Tempo's trace JSON is protobuf-JSON: ids are base64, kinds are enum names, the top level
 * is `batches` (older) or `resourceSpans` (OTLP); both forms are accepted.
 */

export type TempoTarget = { url: string; tenant: string };

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export type TempoSpan = {
  traceId: string;
  spanId: string;
  /** Absent on a root span. */
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  serviceName?: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
};

export type TraceSearchHit = {
  traceId: string;
  rootServiceName?: string;
  rootTraceName?: string;
};

type KeyValue = { key: string; value?: AnyValue };
type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
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
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: string | number; message?: string };
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
};
type JsonResourceSpans = {
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

/** The spans of one trace, or undefined while the tenant has no such trace (404). */
export async function getTrace(tempo: TempoTarget, traceIdHex: string): Promise<TempoSpan[] | undefined> {
  const response = await fetch(`${tempo.url}/api/traces/${traceIdHex}`, {
    headers: { accept: 'application/json', 'x-scope-orgid': tempo.tenant },
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) throw new Error(`GET /api/traces/${traceIdHex}: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { batches?: JsonResourceSpans[]; resourceSpans?: JsonResourceSpans[] };
  return (body.batches ?? body.resourceSpans ?? []).flatMap(spansOfResource);
}

/** TraceQL search over recent traces (ingesters) unless a time range is given. */
export async function searchTraces(
  tempo: TempoTarget,
  traceql: string,
  range: { startSeconds?: number; endSeconds?: number; limit?: number } = {},
): Promise<TraceSearchHit[]> {
  const params = new URLSearchParams({ q: traceql, limit: String(range.limit ?? 20) });
  if (range.startSeconds !== undefined) params.set('start', String(Math.floor(range.startSeconds)));
  if (range.endSeconds !== undefined) params.set('end', String(Math.ceil(range.endSeconds)));
  const response = await fetch(`${tempo.url}/api/search?${params}`, {
    headers: { 'x-scope-orgid': tempo.tenant },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`GET /api/search: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as {
    traces?: { traceID: string; rootServiceName?: string; rootTraceName?: string }[];
  };
  return (body.traces ?? []).map(({ traceID, rootServiceName, rootTraceName }) => ({
    // Search results drop the trace id's leading zeros.
    traceId: traceID.toLowerCase().padStart(32, '0'),
    rootServiceName,
    rootTraceName,
  }));
}

/** Accepts an OTLP id as hex or base64 (told apart by length) and returns lowercase hex. */
export function idToHex(id: string, byteLength: 8 | 16): string {
  if (id.length === byteLength * 2 && /^[0-9a-f]+$/i.test(id)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

function spansOfResource(resourceSpans: JsonResourceSpans): TempoSpan[] {
  const resource = attributesToObject(resourceSpans.resource?.attributes);
  const scopes = resourceSpans.scopeSpans ?? resourceSpans.instrumentationLibrarySpans ?? [];
  return scopes.flatMap((scope) => scope.spans ?? []).map((span) => toTempoSpan(span, resource));
}

function toTempoSpan(span: JsonSpan, resource: Record<string, unknown>): TempoSpan {
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
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValueToJs);
  if (value.kvlistValue) return attributesToObject(value.kvlistValue.values);
  return undefined;
}
