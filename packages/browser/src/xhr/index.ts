/**
 * `@rumkit/browser/xhr`: opt-in `XMLHttpRequest` spans from `@opentelemetry/instrumentation-xml-http-request`,
 * with the same propagation and ignore rules as fetch. A separate entry point, so apps that do not pass it
 * do not ship it.
 *
 *     import { init } from '@rumkit/browser';
 *     import { xhr } from '@rumkit/browser/xhr';
 *     init({ endpoint, apiKey, serviceName, xhr });
 */
import type { TracerProvider } from '@opentelemetry/api';
import { XMLHttpRequestInstrumentation } from '@opentelemetry/instrumentation-xml-http-request';
import type { Settings } from '../config.ts';
import { httpClientOptions } from '../httpClientOptions.ts';
import { enableInstrumentation, onePerPage } from '../instrumentations.ts';

/** An optional capture the agent starts at `init`; the function it returns stops it. */
export interface Feature {
  start(settings: Settings, provider: TracerProvider): () => void;
}

const xhrInstrumentation = onePerPage((config) => new XMLHttpRequestInstrumentation(config));

export const xhr: Feature = {
  start: (settings, provider) => enableInstrumentation(xhrInstrumentation(httpClientOptions(settings)), provider),
};
