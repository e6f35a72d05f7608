/**
 * What the agent loads after the page's `load` event, as a second chunk: document-load spans (the
 * instrumentation collects from the navigation timing that is complete by then) and web vitals (their
 * observers read the entries buffered since navigation start). Keeping them out of the first script is
 * what keeps that script small.
 *
 *     const { startDeferred } = await import('./deferred.ts');
 *     const stop = startDeferred(provider, { tracer, views });
 *
 * Both measure the document, which loads once: the first agent of the page starts them, and what they report
 * goes to the agent running at the time. An agent started again (`init()` after `shutdown()`) re-reported the
 * document's load, FCP and TTFB, and its LCP, CLS and INP at page hide went to the stopped agent.
 */
import type { TracerProvider } from '@opentelemetry/api';
import { createDocumentLoadInstrumentation } from './documentLoad/index.ts';
import { enableInstrumentation } from './instrumentations.ts';
import { guard } from './lib/guard.ts';
import { observeWebVitals, type VitalsTarget } from './webVitals/index.ts';

let current: VitalsTarget | undefined;
let started = false;

export function startDeferred(provider: TracerProvider, agent: VitalsTarget): () => void {
  current = agent;
  if (!started) {
    started = true;
    enableInstrumentation(createDocumentLoadInstrumentation(), provider);
    // In a task of their own: the document's spans fill the one they are made in, and the library reports TTFB
    // at once. Their observers read what was buffered meanwhile, as they read what came before `load`.
    setTimeout(guard(() => observeWebVitals(() => current)));
  }
  return () => {
    if (current === agent) current = undefined;
  };
}
