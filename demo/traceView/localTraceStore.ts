/**
 * The embedded trace store of `npm start`: keeps in memory the traces that arrive over OTLP (from the edge
 * worker and the demo API, through `otlpReceiver.ts`) and answers the trace view like Tempo would. Bounded: past
 * `maxTraces`, the trace that arrived first is forgotten.
 *
 *     const store = createLocalTraceStore();
 *     store.add(decodeTraceRequest(body));
 *     await store.getTrace(traceId);
 */
import type { ExportTraceServiceRequest } from '@rumkit/otlp';
import { nanosToMs } from './nanosToMs.ts';
import { serviceGraphEdges } from './serviceGraphEdges.ts';
import type { SpanQuery, TimeRange, TraceSource, TraceSpan, TraceSummary } from './traceSource.ts';
import { traceSpansOf } from './traceSpansOf.ts';

export type LocalTraceStore = TraceSource & {
  /** Stores the spans of an OTLP request; returns how many it held. */
  add(request: ExportTraceServiceRequest): number;
  readonly traceCount: number;
};

type StoredTrace = { spans: Map<string, TraceSpan>; startMs: number; endMs: number };

export function createLocalTraceStore({ maxTraces = 5_000 } = {}): LocalTraceStore {
  const traces = new Map<string, StoredTrace>();

  const add = (request: ExportTraceServiceRequest) => {
    const spans = request.resourceSpans.flatMap(traceSpansOf);
    for (const span of spans) {
      let trace = traces.get(span.traceId);
      if (!trace) {
        trace = { spans: new Map(), startMs: Number.POSITIVE_INFINITY, endMs: 0 };
        traces.set(span.traceId, trace);
        // Maps iterate in insertion order: the first key is the oldest trace.
        if (traces.size > maxTraces) traces.delete(traces.keys().next().value as string);
      }
      trace.spans.set(span.spanId, span);
      trace.startMs = Math.min(trace.startMs, nanosToMs(span.startTimeUnixNano));
      trace.endMs = Math.max(trace.endMs, nanosToMs(span.endTimeUnixNano));
    }
    return spans.length;
  };

  const inRange = (trace: StoredTrace, { startSeconds, endSeconds }: TimeRange) =>
    (startSeconds === undefined || trace.endMs >= startSeconds * 1000) &&
    (endSeconds === undefined || trace.startMs <= endSeconds * 1000);

  return {
    description: 'the local store',
    get traceCount() {
      return traces.size;
    },
    add,
    async getTrace(traceId) {
      const trace = traces.get(traceId.toLowerCase());
      return trace && [...trace.spans.values()];
    },
    async search(query) {
      const hits: TraceSummary[] = [];
      for (const [traceId, trace] of traces) {
        if (inRange(trace, query) && [...trace.spans.values()].some((span) => spanMatches(span, query))) {
          hits.push(summarise(traceId, trace));
        }
      }
      hits.sort((a, b) => Number(b.startUnixNano) - Number(a.startUnixNano));
      return hits.slice(0, query.limit ?? 20);
    },
    async serviceGraph(range) {
      const spans = [...traces.values()].filter((trace) => inRange(trace, range)).flatMap((t) => [...t.spans.values()]);
      return serviceGraphEdges(spans);
    },
  };
}

function spanMatches(span: TraceSpan, query: SpanQuery): boolean {
  if (query.serviceName !== undefined && span.serviceName !== query.serviceName) return false;
  if (query.name !== undefined && span.name !== query.name) return false;
  if (query.kind !== undefined && span.kind !== query.kind) return false;
  return Object.entries(query.attributes ?? {}).every(([key, expected]) => {
    const actual = span.attributes[key];
    return typeof expected === 'string'
      ? actual === expected
      : typeof actual === 'string' && actual.endsWith(expected.endsWith);
  });
}

function summarise(traceId: string, trace: StoredTrace): TraceSummary {
  const spans = [...trace.spans.values()];
  // The root is the span without a parent in the trace; a trace whose root has not arrived yet shows its earliest.
  const root =
    spans.find((span) => !span.parentSpanId || !trace.spans.has(span.parentSpanId)) ??
    spans.reduce((a, b) => (nanosToMs(a.startTimeUnixNano) <= nanosToMs(b.startTimeUnixNano) ? a : b));
  return {
    traceId,
    rootServiceName: root.serviceName,
    rootName: root.name,
    startUnixNano: String(BigInt(Math.round(trace.startMs * 1e3)) * 1000n),
    durationMs: trace.endMs - trace.startMs,
  };
}
