/**
 * The seam between rumkit and the OpenTelemetry instrumentation packages: the only place that knows how an
 * instrumentation is attached to a tracer provider and switched on and off. Moving to the OpenTelemetry
 * browser repository's instrumentations, or to the 3.x SDK line, changes this file and the factories.
 *
 *     const disable = enableInstrumentation(new FetchInstrumentation({ enabled: false }), provider);
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';

/** Instrumentations must be built with `enabled: false`, or they patch before they have a tracer. */
export function enableInstrumentation(instrumentation: Instrumentation, provider: TracerProvider): () => void {
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  return () => instrumentation.disable();
}
