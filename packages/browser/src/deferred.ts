/**
 * What the agent loads after the page's `load` event, as a second chunk: document-load spans (the
 * instrumentation collects from the navigation timing that is complete by then) and web vitals (their
 * observers read the entries buffered since navigation start). Keeping them out of the first script is
 * what keeps that script small.
 *
 *     const { startDeferred } = await import('./deferred.ts');
 *     const stop = startDeferred(provider, tracer, views);
 */
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { createDocumentLoadInstrumentation } from './documentLoad/index.ts';
import { enableInstrumentation } from './instrumentations.ts';
import { guard } from './lib/guard.ts';
import type { PageViews } from './session/pageView.ts';
import { observeWebVitals } from './webVitals/index.ts';

export function startDeferred(provider: TracerProvider, tracer: Tracer, views: PageViews): () => void {
  const disable = enableInstrumentation(createDocumentLoadInstrumentation(), provider);
  // In a task of their own: the document's spans fill the one they are made in, and the library reports TTFB at
  // once. Their observers read what was buffered meanwhile, as they read what came before `load`.
  const observing = setTimeout(guard(() => observeWebVitals(tracer, views)));
  return () => {
    clearTimeout(observing);
    disable();
  };
}
