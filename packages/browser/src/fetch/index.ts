/**
 * `fetch` spans (kind CLIENT, stable HTTP semantic conventions) from `@opentelemetry/instrumentation-fetch`;
 * `traceparent`/`tracestate` only to the URLs the user listed.
 *
 *     enableInstrumentation(createFetchInstrumentation(settings), provider);
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
