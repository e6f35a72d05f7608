import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTempoSource } from '../../demo/traceView/tempoSource.ts';
import type { TraceSource } from '../../demo/traceView/traceSource.ts';
import { pollUntil } from '../../e2e/stack/pollUntil.ts';
import { postTestSpans, testSpan } from '../../e2e/stack/postTestSpans.ts';
import { type RunningStack, startStack } from '../../e2e/stack/stack.ts';

const TENANT = 'queue-check';
let stack: RunningStack;
let tempo: TraceSource;

beforeAll(async () => {
  stack = await startStack({ log: () => {} });
  tempo = createTempoSource({ url: stack.urls.tempo, tenant: TENANT });
});
afterAll(() => stack?.stop());

/** Posts one server span to the collector as the worker would, and returns its trace id. */
async function postSpan(): Promise<string> {
  const span = testSpan({ service: 'queue-check', name: 'GET /orders', kind: 'server' });
  const response = await postTestSpans(stack.urls.collectorOtlpHttp, [span], {
    authorization: `Bearer ${stack.collectorToken}`,
    'x-scope-orgid': TENANT,
  });
  await response.body?.cancel();
  expect(response.status, 'the collector acknowledges the span').toBe(200);
  return span.traceId;
}

const inTempo = (traceId: string) =>
  pollUntil(`trace ${traceId} in Tempo`, () => tempo.getTrace(traceId), { timeoutMs: 60_000, intervalMs: 1_000 });

it('delivers a span acknowledged while Tempo was down, though the collector restarted meanwhile', async () => {
  await inTempo(await postSpan());
  let acknowledged = '';
  await stack.restart('tempo', async () => {
    acknowledged = await postSpan();
    // With Tempo away the span can only be in the exporter's queue; restarting the collector leaves only
    // what that queue put on disk (file_storage) to deliver it.
    await stack.restart('collector');
  });
  expect((await inTempo(acknowledged)).map((span) => span.serviceName)).toEqual(['queue-check']);
});
