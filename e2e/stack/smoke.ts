/**
 * End-to-end check of the stack alone: one browser-like CLIENT span and the backend's
 * SERVER span posted to the collector under a tenant must come out of Tempo for that tenant
 * only (by id and by TraceQL) and as a service-graph edge and span metrics in Prometheus;
 * a post without the collector's token is refused. Exits non-zero on failure.
 *
 *   RUMKIT_PORT_BASE=15300 node e2e/stack/smoke.ts
 */
import { createTempoSource } from '../../demo/traceView/tempoSource.ts';
import { pollUntil } from './pollUntil.ts';
import { postTestSpans, testSpan } from './postTestSpans.ts';
import { queryScalar } from './prometheusClient.ts';
import { type RunningStack, startStack } from './stack.ts';
import { stopOnSignal } from './stopOnSignal.ts';

const TOTAL_TIMEOUT_MS = 90_000;
const TENANT = 'smoke';

function smokeTrace() {
  const client = testSpan({ service: 'smoke-web', name: 'GET /api/items', kind: 'client', startMsAgo: 200 });
  const server = testSpan({
    service: 'smoke-api',
    name: 'GET /api/items',
    kind: 'server',
    traceId: client.traceId,
    parentSpanId: client.spanId,
    startMsAgo: 150,
    endMsAgo: 50,
  });
  return { traceId: client.traceId, clientSpanId: client.spanId, serverSpanId: server.spanId, spans: [client, server] };
}

async function runSmoke(stack: RunningStack): Promise<void> {
  const trace = smokeTrace();
  const tempo = createTempoSource({ url: stack.urls.tempo, tenant: TENANT });
  const anonymous = await postTestSpans(stack.urls.collectorOtlpHttp, trace.spans, { 'x-scope-orgid': TENANT });
  await anonymous.body?.cancel();
  if (anonymous.status !== 401) throw new Error(`collector took a post without its token: HTTP ${anonymous.status}`);

  const posted = performance.now();
  const response = await postTestSpans(stack.urls.collectorOtlpHttp, trace.spans, {
    authorization: `Bearer ${stack.collectorToken}`,
    'x-scope-orgid': TENANT,
  });
  if (!response.ok) throw new Error(`collector refused the trace: HTTP ${response.status} ${await response.text()}`);
  await response.body?.cancel();

  const timed = async (name: string, description: string, check: () => Promise<true | undefined>) => {
    const remaining = TOTAL_TIMEOUT_MS - (performance.now() - posted);
    await pollUntil(description, check, { timeoutMs: remaining, intervalMs: 500 });
    console.error(`smoke: ${name} after ${((performance.now() - posted) / 1000).toFixed(1)}s`);
  };

  await Promise.all([
    timed('trace by id', `trace ${trace.traceId} with both spans in Tempo`, async () => {
      const spans = await tempo.getTrace(trace.traceId);
      if (!spans) return undefined;
      const client = spans.find((span) => span.spanId === trace.clientSpanId);
      const server = spans.find((span) => span.spanId === trace.serverSpanId);
      if (client?.serviceName !== 'smoke-web' || client.kind !== 'client')
        throw new Error(`client span wrong or missing: ${JSON.stringify(client)}`);
      if (
        server?.serviceName !== 'smoke-api' ||
        server.kind !== 'server' ||
        server.parentSpanId !== trace.clientSpanId
      ) {
        throw new Error(`server span wrong or missing: ${JSON.stringify(server)}`);
      }
      return true;
    }),
    timed('TraceQL search', 'TraceQL {resource.service.name="smoke-web"} to find the trace', async () => {
      const hits = await tempo.search({ serviceName: 'smoke-web' });
      return hits.some((hit) => hit.traceId === trace.traceId) ? true : undefined;
    }),
    timed(
      'service-graph edge',
      'traces_service_graph_request_total{client="smoke-web",server="smoke-api"} > 0 in Prometheus',
      async () => {
        const count = await queryScalar(
          stack.urls.prometheus,
          'sum(traces_service_graph_request_total{client="smoke-web",server="smoke-api"})',
        );
        return count !== undefined && count > 0 ? true : undefined;
      },
    ),
    timed(
      'collector span metrics',
      'traces_span_metrics_calls_total{service_name="smoke-api"} > 0 in Prometheus',
      async () => {
        const count = await queryScalar(
          stack.urls.prometheus,
          'sum(traces_span_metrics_calls_total{service_name="smoke-api"})',
        );
        return count !== undefined && count > 0 ? true : undefined;
      },
    ),
  ]);
  const otherTenant = await createTempoSource({ url: stack.urls.tempo, tenant: `${TENANT}-other` }).getTrace(
    trace.traceId,
  );
  if (otherTenant) throw new Error(`tenant ${TENANT}-other can read tenant ${TENANT}'s trace`);
}

const started = performance.now();
const starting = new AbortController();
const stackStart = startStack({ signal: starting.signal });
// A start the abort interrupts stops what it launched itself; a stack it did not return (refused, because another
// run's stack is up on these ports) is not ours to stop.
const stopAndExit = stopOnSignal(async (code) => {
  const stopStarted = performance.now();
  starting.abort();
  const stack = await stackStart.catch(() => undefined);
  if (stack) {
    await stack.stop({ keepLogs: code !== 0 });
    console.error(`smoke: stack stopped in ${((performance.now() - stopStarted) / 1000).toFixed(1)}s`);
  }
  console.error(`smoke: ${code === 0 ? 'passed' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)}s`);
});
try {
  const stack = await stackStart;
  const crashed = stack.unexpectedExit.then((problem) => Promise.reject(new Error(problem)));
  await Promise.race([runSmoke(stack), crashed]);
  await stopAndExit(0);
} catch (error) {
  // Interrupted: what the stop ended fails as expected.
  if (!stopAndExit.stopping) {
    console.error(`smoke: ${error instanceof Error ? error.message : error}`);
    await stopAndExit(1);
  }
}
