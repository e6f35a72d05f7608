/**
 * When each HTTP client span's response was complete. The fetch and XHR instrumentations call their
 * `applyCustomAttributesOnSpan` hook just before they take the span's end time, then wait 300 ms for its
 * resource timing before ending it; a page that hides meanwhile has the span processor end it at this time.
 *
 *     new FetchInstrumentation(httpClientOptions(settings)); // applyCustomAttributesOnSpan: recordResponseTime
 *     span.end(responseTimes.get(span)); // undefined: now
 */
export const responseTimes = new WeakMap<object, number>();

export const recordResponseTime = (span: object): void => {
  responseTimes.set(span, Date.now());
};
