/**
 * The seam between rumkit and the OpenTelemetry instrumentation packages: the only place that knows how an
 * instrumentation is attached to a tracer provider and switched on and off. Moving to the OpenTelemetry
 * browser repository's instrumentations, or to the 3.x SDK line, changes this file and the factories.
 *
 *     const fetchInstrumentation = onePerPage((config) => new FetchInstrumentation(config));
 *     const disable = enableInstrumentation(fetchInstrumentation({ enabled: false }), provider);
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { Instrumentation, InstrumentationConfig } from '@opentelemetry/instrumentation';

/** Instrumentations must be built with `enabled: false`, or they patch before they have a tracer. */
export function enableInstrumentation(instrumentation: Instrumentation, provider: TracerProvider): () => void {
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  return () => instrumentation.disable();
}

/**
 * One instrumentation of a kind for the page's life, given each agent's options as it starts. Disabled, the fetch
 * and XHR instrumentations leave their wrapper in place (unwrapping would also take away wrappers that other
 * scripts put over theirs) and pass calls through; enabled again, they reuse it. One made per `init()` wrapped
 * `fetch` once more after each `shutdown()`, every layer holding its stopped agent.
 */
export function onePerPage<C extends InstrumentationConfig, I extends Instrumentation<C>>(
  create: (config: C) => I,
): (config: C) => I {
  let instance: I | undefined;
  return (config) => {
    if (instance) instance.setConfig(config);
    else instance = create(config);
    return instance;
  };
}
