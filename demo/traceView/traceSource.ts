/**
 * What the trace view reads traces through: one interface, two sources. `localTraceStore.ts` keeps what the
 * edge worker and the demo API send it (the default of `npm start`); `tempoSource.ts` asks Grafana Tempo's HTTP
 * API (when `TEMPO_URL` is set, and in the end-to-end tests).
 *
 *     const spans = await source.getTrace(traceId);                      // undefined until it has arrived
 *     const hits = await source.search({ serviceName: 'rumkit-demo-web', name: 'documentLoad' });
 *     const edges = await source.serviceGraph({ startSeconds: now - 900, endSeconds: now });
 */

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** One span of a trace, ids in lowercase hex, with its resource's attributes. */
export type TraceSpan = {
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

export type TraceSummary = {
  traceId: string;
  rootServiceName?: string;
  rootName?: string;
  startUnixNano?: string;
  durationMs?: number;
};

/** A time range in seconds since the epoch; a trace is in it when it overlaps it. */
export type TimeRange = { startSeconds?: number; endSeconds?: number };

/**
 * Traces with at least one span that meets every condition given (TraceQL's `{ a && b }`). An attribute is the
 * span's own; `{ endsWith }` matches the end of a string value.
 */
export type SpanQuery = TimeRange & {
  serviceName?: string;
  name?: string;
  kind?: SpanKindName;
  attributes?: Record<string, string | { endsWith: string }>;
  /** Most traces returned, most recent first (default 20). */
  limit?: number;
};

/** A service-graph edge as Tempo's metrics-generator counts it: a CLIENT span and the SERVER span under it. */
export type ServiceGraphEdge = { client: string; server: string; requests: number; failed: number };

export interface TraceSource {
  /** Where the traces come from, for people: "the local store", "Tempo at http://…". */
  readonly description: string;
  /** The spans of one trace, or undefined while the source does not have it. */
  getTrace(traceId: string): Promise<TraceSpan[] | undefined>;
  search(query: SpanQuery): Promise<TraceSummary[]>;
  serviceGraph(range: TimeRange): Promise<ServiceGraphEdge[]>;
}
