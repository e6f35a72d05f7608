/**
 * A trace together with the other traces of the page views it belongs to. A browser's page view is several
 * traces — the document load, each fetch, each web vital — tied by `rumkit.page_view.id`; showing them side by
 * side tells how the page loaded, what the user did and how it felt.
 *
 *     const traces = await loadPageView(source, traceId); // [selected trace, …others]; undefined if unknown
 */
import { nanosToMs } from './nanosToMs.ts';
import type { TraceSource, TraceSpan } from './traceSource.ts';

const PAGE_VIEW_ID = 'rumkit.page_view.id';
/** How far before the trace its page view may have begun. */
const PAGE_VIEW_LOOKBACK_SECONDS = 3600;

export async function loadPageView(source: TraceSource, traceId: string): Promise<TraceSpan[][] | undefined> {
  const spans = await source.getTrace(traceId);
  if (!spans) return undefined;
  const traces = new Map([[traceId, spans]]);
  const pageViewIds = new Set(
    spans.map((span) => span.attributes[PAGE_VIEW_ID]).filter((id) => typeof id === 'string'),
  );
  const startSeconds = Math.min(...spans.map((span) => nanosToMs(span.startTimeUnixNano))) / 1000;
  for (const pageViewId of pageViewIds) {
    const hits = await source.search({
      attributes: { [PAGE_VIEW_ID]: pageViewId },
      startSeconds: startSeconds - PAGE_VIEW_LOOKBACK_SECONDS,
      endSeconds: Date.now() / 1000 + 60,
      limit: 50,
    });
    const others = hits.map((hit) => hit.traceId).filter((other) => !traces.has(other));
    const found = await Promise.all(others.map((other) => source.getTrace(other)));
    others.forEach((other, i) => {
      const otherSpans = found[i];
      if (otherSpans) traces.set(other, otherSpans);
    });
  }
  return [...traces.values()];
}
