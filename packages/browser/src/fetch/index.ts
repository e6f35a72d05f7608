/**
 * `fetch` spans (kind CLIENT, stable HTTP semantic conventions) from `@opentelemetry/instrumentation-fetch`;
 * `traceparent`/`tracestate` only to the URLs the user listed.
 *
 *     enableInstrumentation(createFetchInstrumentation(settings), provider);
 *
 * The instrumentation ends a span 300 ms after the response; the span processor ends it early, at the
 * response's time (responseTimes.ts), when the page hides or unloads meanwhile (processor.ts).
 */
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import type { Settings } from '../config.ts';
import { httpClientOptions } from '../httpClientOptions.ts';

export function createFetchInstrumentation(settings: Settings): FetchInstrumentation {
  return new FetchInstrumentation(httpClientOptions(settings));
}
