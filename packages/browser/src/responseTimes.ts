/**
 * When each HTTP client span's response was complete. The fetch and XHR instrumentations call their
 * `applyCustomAttributesOnSpan` hook just before they take the span's end time, then wait 300 ms for its
 * resource timing before ending it; a page that hides meanwhile has the span processor end it at this time.
 *
 *     new FetchInstrumentation(httpClientOptions(settings)); // applyCustomAttributesOnSpan: recordResponseTime
 *     span.end(responseTimes.get(span)); // undefined: now
 */
import type { Span } from '@opentelemetry/api';
export const responseTimes = new WeakMap<object, number>();

export const recordResponseTime = (span: Span, request?: unknown): void => {
  responseTimes.set(span, Date.now());
  // The XHR instrumentation sets the status in its 300 ms wait, which a hiding page cuts short (fetch sets it
  // before): set it now, as the instrumentation would (not for 0, which XHR gives when no response came).
  if (request instanceof XMLHttpRequest && request.status)
    span.setAttribute('http.response.status_code', request.status);
};
