/**
 * What the agent loads after the page's `load` event, as a second chunk: document-load spans (the
 * instrumentation collects from the navigation timing that is complete by then) and web vitals (their
 * observers read the entries buffered since navigation start). Keeping them out of the first script is
 * what keeps that script small.
 *
 *     const { startDeferred } = await import('./deferred.ts');
 *     const stop = startDeferred(provider, tracer, views.first);
 */
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { createDocumentLoadInstrumentation } from './documentLoad/index.ts';
import { enableInstrumentation } from './instrumentations.ts';
import type { PageView } from './session/pageView.ts';
import { observeWebVitals } from './webVitals/index.ts';

/** `view`: the page view the document's load and its web vitals belong to. */
export function startDeferred(provider: TracerProvider, tracer: Tracer, view: PageView): () => void {
  const disable = enableInstrumentation(createDocumentLoadInstrumentation(), provider);
  observeWebVitals(tracer, view);
  return disable;
}
