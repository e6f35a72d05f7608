/**
 * Lays one trace out as waterfall rows: parents before their children, siblings by start time, each row with
 * its depth and its offset and duration in milliseconds from the trace's first span.
 *
 *     const { rows, totalMs } = waterfall(spans);
 *     rows[0]; // { span, depth: 0, offsetMs: 0, durationMs: 212.4 }
 */
import { nanosToMs } from './nanosToMs.ts';
import type { TraceSpan } from './traceSource.ts';

export type WaterfallRow = { span: TraceSpan; depth: number; offsetMs: number; durationMs: number };

export function waterfall(spans: TraceSpan[]): { rows: WaterfallRow[]; startMs: number; totalMs: number } {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | undefined, TraceSpan[]>();
  for (const span of spans) {
    // A span whose parent is missing (not arrived, or in another service that did not report) is shown as a root.
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const startMs = Math.min(...spans.map((span) => nanosToMs(span.startTimeUnixNano)));
  const endMs = Math.max(...spans.map((span) => nanosToMs(span.endTimeUnixNano)));
  const rows: WaterfallRow[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    const ordered = (children.get(parent) ?? []).sort(
      (a, b) => nanosToMs(a.startTimeUnixNano) - nanosToMs(b.startTimeUnixNano),
    );
    for (const span of ordered) {
      const offsetMs = nanosToMs(span.startTimeUnixNano) - startMs;
      rows.push({ span, depth, offsetMs, durationMs: nanosToMs(span.endTimeUnixNano) - startMs - offsetMs });
      visit(span.spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return { rows, startMs, totalMs: Math.max(endMs - startMs, 0) };
}
