/**
 * `fetch` spans (kind CLIENT, stable HTTP semantic conventions) from `@opentelemetry/instrumentation-fetch`;
 * `traceparent`/`tracestate` only to the URLs the user listed.
 *
 *     const fetchSpans = createFetchInstrumentation(settings);
 *     enableInstrumentation(fetchSpans, provider);
 *     const stop = endWaitingSpansWhenHidden(fetchSpans);
 */
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import type { Settings } from '../config.ts';

export function createFetchInstrumentation(settings: Settings): FetchInstrumentation {
  return new FetchInstrumentation({
    enabled: false,
    propagateTraceHeaderCorsUrls: settings.propagateTraceHeaderCorsUrls,
    ignoreUrls: settings.ignoreUrls,
  });
}

/** The instrumentation's (private) method that ends a span once the response body has arrived. */
interface EndsSpans {
  _endSpan(...args: unknown[]): void;
}

/**
 * The instrumentation ends a span 300 ms after its response has arrived, so that the resource-timing entry
 * can join it. A tab closed within those 300 ms would take the span with it — and users close tabs right
 * after the answer they waited for. So the deferred ends are captured, and when the page hides they run at
 * once; the transport beacons whatever ends while the page is hidden.
 */
export function endWaitingSpansWhenHidden(instrumentation: FetchInstrumentation): () => void {
  const internals = instrumentation as unknown as EndsSpans;
  const endSpan = internals._endSpan;
  const waiting = new Set<() => void>();
  internals._endSpan = function (this: unknown, ...args: unknown[]) {
    // The deferral is the one setTimeout the method makes; everything else in it runs right here.
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((deferred: () => void, delay?: number) => {
      const end = () => {
        if (waiting.delete(end)) deferred();
      };
      waiting.add(end);
      return realSetTimeout(end, delay);
    }) as typeof setTimeout;
    try {
      endSpan.apply(this, args);
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  };
  const endNowIfHidden = (event: Event) => {
    if (event.type === 'pagehide' || document.visibilityState === 'hidden') for (const end of [...waiting]) end();
  };
  addEventListener('pagehide', endNowIfHidden);
  addEventListener('visibilitychange', endNowIfHidden);
  return () => {
    internals._endSpan = endSpan;
    removeEventListener('pagehide', endNowIfHidden);
    removeEventListener('visibilitychange', endNowIfHidden);
  };
}
