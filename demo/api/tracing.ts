/**
 * OpenTelemetry for the demo API, loaded with `node --import ./demo/api/tracing.ts` so that `node:http` is
 * instrumented before the server imports it. Spans go to the collector as OTLP/HTTP protobuf.
 */
import { register } from 'node:module';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

// ESM imports are only patched through the instrumentation's loader hook.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const collector = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({
    'service.name': process.env.OTEL_SERVICE_NAME ?? 'rumkit-demo-api',
    'service.version': '0.1.0',
    'deployment.environment.name': process.env.DEPLOYMENT_ENVIRONMENT ?? 'demo',
  }),
  spanProcessors: [
    new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector}/v1/traces` }), { scheduledDelayMillis: 200 }),
  ],
});
provider.register();
registerInstrumentations({
  instrumentations: [
    new HttpInstrumentation({
      // Readiness probes and CORS preflights (which carry no traceparent) would each be a trace of their own,
      // listed in the trace view before and beside every upload's.
      ignoreIncomingRequestHook: (req) => req.url === '/health' || req.method === 'OPTIONS',
    }),
  ],
});

const shutdown = () => void provider.shutdown().finally(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
