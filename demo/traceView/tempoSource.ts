/**
 * The trace view's source for Grafana Tempo, through its HTTP API — the one Tempo client of the repository (the
 * end-to-end tests read Tempo through it too).
 *
 *     const tempo = createTempoSource({ url: 'http://127.0.0.1:14320' });
 *     const spans = await tempo.getTrace(traceIdHex);   // undefined until Tempo has it
 *     await tempo.search({ serviceName: 'rumkit-demo-web', name: 'documentLoad' });
 *
 * Tempo's trace JSON is protobuf-JSON (base64 ids, enum names; see traceSpansOf.ts). Searches are TraceQL, newest
 * first. The service graph is counted from the most recent traces (`serviceGraphTraces`) that have a CLIENT span
 * with a SERVER span under it, so its counts are a sample where the local store's are all; Tempo's own service
 * graph lives in Prometheus, written by its metrics-generator.
 */
import { serviceGraphEdges } from './serviceGraphEdges.ts';
import type { SpanQuery, TraceSource } from './traceSource.ts';
import { type JsonResourceSpans, traceSpansOf } from './traceSpansOf.ts';

export type TempoSourceOptions = {
  /** Tempo's HTTP API, e.g. `http://127.0.0.1:3200`. */
  url: string;
  /** Sent as `X-Scope-OrgID` when Tempo runs multi-tenant. */
  tenant?: string;
  /** Traces read to count the service graph. */
  serviceGraphTraces?: number;
};

export function createTempoSource({ url, tenant, serviceGraphTraces = 50 }: TempoSourceOptions): TraceSource {
  const baseUrl = url.replace(/\/+$/, '');
  const get = (path: string) =>
    fetch(`${baseUrl}${path}`, {
      headers: { accept: 'application/json', ...(tenant ? { 'x-scope-orgid': tenant } : {}) },
      signal: AbortSignal.timeout(10_000),
    });

  const source: TraceSource = {
    description: `Tempo at ${baseUrl}`,
    async getTrace(traceId) {
      const response = await get(`/api/traces/${traceId}`);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) throw new Error(`GET /api/traces/${traceId}: HTTP ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { batches?: JsonResourceSpans[]; resourceSpans?: JsonResourceSpans[] };
      return (body.batches ?? body.resourceSpans ?? []).flatMap(traceSpansOf);
    },
    search: (query) => searchTraceQL(toTraceQL(query), query),
    async serviceGraph(range) {
      const hits = await searchTraceQL('{ kind = client } > { kind = server }', {
        ...range,
        limit: serviceGraphTraces,
      });
      const traces = await Promise.all(hits.map((hit) => source.getTrace(hit.traceId)));
      return serviceGraphEdges(traces.flatMap((spans) => spans ?? []));
    },
  };

  async function searchTraceQL(traceql: string, { startSeconds, endSeconds, limit = 20 }: SpanQuery) {
    // Without the hint Tempo returns the first matches its search happens on, not the newest.
    const params = new URLSearchParams({ q: `${traceql} with (most_recent=true)`, limit: String(limit) });
    if (startSeconds !== undefined) params.set('start', String(Math.floor(startSeconds)));
    if (endSeconds !== undefined) params.set('end', String(Math.ceil(endSeconds)));
    const response = await get(`/api/search?${params}`);
    if (!response.ok) throw new Error(`GET /api/search: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as {
      traces?: {
        traceID: string;
        rootServiceName?: string;
        rootTraceName?: string;
        startTimeUnixNano?: string;
        durationMs?: number;
      }[];
    };
    return (body.traces ?? []).map((hit) => ({
      // Search results drop the trace id's leading zeros.
      traceId: hit.traceID.toLowerCase().padStart(32, '0'),
      rootServiceName: hit.rootServiceName,
      rootName: hit.rootTraceName,
      startUnixNano: hit.startTimeUnixNano,
      durationMs: hit.durationMs,
    }));
  }

  return source;
}

/** The TraceQL spanset for a query: `{ resource.service.name = "web" && name = "documentLoad" }`. */
export function toTraceQL(query: SpanQuery): string {
  const conditions: string[] = [];
  if (query.serviceName !== undefined) conditions.push(`resource.service.name = ${quote(query.serviceName)}`);
  if (query.name !== undefined) conditions.push(`name = ${quote(query.name)}`);
  if (query.kind !== undefined) conditions.push(`kind = ${query.kind}`);
  for (const [key, expected] of Object.entries(query.attributes ?? {})) {
    conditions.push(
      typeof expected === 'string'
        ? `span.${key} = ${quote(expected)}`
        : // TraceQL regexes are RE2 and match the whole value.
          `span.${key} =~ ${quote(`.*${expected.endsWith.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')}`)}`,
    );
  }
  return conditions.length ? `{ ${conditions.join(' && ')} }` : '{}';
}

function quote(value: string): string {
  return JSON.stringify(value);
}
