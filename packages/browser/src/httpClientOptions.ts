/**
 * What fetch and XHR spans share: the instrumentation starts disabled (the agent enables it once the tracer
 * provider is set), trace context goes only to the URLs the user listed, the ignored URLs (the agent's own
 * endpoint first) get no span, and the response time is kept for ending a span early at page hide.
 *
 *     new FetchInstrumentation(httpClientOptions(settings));
 */
import type { Settings } from './config.ts';
import { recordResponseTime } from './responseTimes.ts';

export const httpClientOptions = (settings: Settings) => ({
  enabled: false,
  propagateTraceHeaderCorsUrls: settings.propagateTraceHeaderCorsUrls,
  ignoreUrls: settings.ignoreUrls,
  applyCustomAttributesOnSpan: recordResponseTime,
});
