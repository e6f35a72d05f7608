/**
 * Starts the agent: a web tracer provider exporting to the rumkit edge, with document-load and fetch
 * instrumentations.
 *
 *     const rum = init({ endpoint: 'https://edge.example.com', apiKey: 'pk_…', serviceName: 'shop-web',
 *                        propagateTraceHeaderCorsUrls: [/^https:\/\/api\.example\.com\//] });
 */
import type { Tracer } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { validateConfig } from './config.ts';
import { createExporter } from './exporter.ts';

export interface RumkitAgent {
  /** Sends every finished span now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  tracer: Tracer;
}

export function init(input: unknown): RumkitAgent {
  const config = validateConfig(input);
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(createExporter(config.endpoint, config.apiKey), { scheduledDelayMillis: 1000 }),
    ],
  });
  provider.register();
  const endpointOrigin = new URL(config.endpoint).origin;
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new DocumentLoadInstrumentation(),
      new FetchInstrumentation({
        propagateTraceHeaderCorsUrls: config.propagateTraceHeaderCorsUrls ?? [],
        // The agent's own exports must not become spans, or every export would produce another one.
        ignoreUrls: [new RegExp(`^${endpointOrigin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`)],
      }),
    ],
  });
  const flush = () => provider.forceFlush();
  // pagehide is the last event a closing tab reliably fires; the exporter's keepalive fetch outlives it.
  const flushWhenHidden = (event: Event) => {
    if (event.type === 'pagehide' || document.visibilityState === 'hidden') void flush();
  };
  addEventListener('pagehide', flushWhenHidden);
  addEventListener('visibilitychange', flushWhenHidden);
  return {
    flush,
    async shutdown() {
      removeEventListener('pagehide', flushWhenHidden);
      removeEventListener('visibilitychange', flushWhenHidden);
      unregister();
      await provider.shutdown();
    },
    tracer: provider.getTracer('@rumkit/browser'),
  };
}
