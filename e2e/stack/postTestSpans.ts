/**
 * Spans written straight to the collector, as the worker or a backend would: how the stack's own checks (the
 * smoke test, the disk-queue test, the operations spec) put a known trace in without a browser.
 *
 *     const span = testSpan({ service: 'smoke-web', name: 'GET /api/items', kind: 'client' });
 *     await postTestSpans(collectorOtlpHttp, [span], { authorization: `Bearer ${token}`, 'x-scope-orgid': 'demo' });
 */
import { randomBytes } from 'node:crypto';

export type TestSpan = {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'server' | 'client';
  /** When it started and ended, in milliseconds before now. */
  startMsAgo: number;
  endMsAgo: number;
  attributes?: Record<string, string>;
};

/** A span of a new trace (or of `traceId`), ending now after `startMsAgo` ms unless told otherwise. */
export function testSpan(span: Partial<TestSpan> & Pick<TestSpan, 'service' | 'name' | 'kind'>): TestSpan {
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    startMsAgo: 50,
    endMsAgo: 0,
    ...span,
  };
}

/** Posts the spans as one OTLP/JSON request to `<collectorOtlpHttp>/v1/traces`, one resource per span. */
export function postTestSpans(
  collectorOtlpHttp: string,
  spans: TestSpan[],
  headers: Record<string, string>,
): Promise<Response> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const ago = (ms: number) => String(nowNs - BigInt(ms) * 1_000_000n);
  const stringValues = (attributes: Record<string, string>) =>
    Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } }));
  const body = {
    resourceSpans: spans.map((span) => ({
      resource: { attributes: stringValues({ 'service.name': span.service }) },
      scopeSpans: [
        {
          scope: { name: 'rumkit-stack-check' },
          spans: [
            {
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
              name: span.name,
              kind: span.kind === 'server' ? 2 : 3,
              startTimeUnixNano: ago(span.startMsAgo),
              endTimeUnixNano: ago(span.endMsAgo),
              attributes: stringValues(span.attributes ?? {}),
            },
          ],
        },
      ],
    })),
  };
  return fetch(`${collectorOtlpHttp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}
