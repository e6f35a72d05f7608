import { decodeTraceRequest } from '@rumkit/otlp';
import { describe, expect, it } from 'vitest';
import { fixtureBytes, testConfig, typicalBatch } from '../testing/config.ts';
import {
  backoffMs,
  CircuitBreaker,
  type ExportResult,
  encodeForUpstream,
  encodeInParts,
  exportGroups,
  exportOnce,
  forwardWithRetry,
  mergeKey,
  mergePayloads,
  queueRetryDelaySeconds,
  refusedReason,
  sendMerged,
  TenantBreakers,
  type Transport,
  type TransportResponse,
  type UpstreamPayload,
} from './forward.ts';

const upstream = testConfig({
  upstream: {
    url: 'http://collector:4318',
    bearerToken: 'collector-token',
    retry: { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 1000 },
  },
}).upstream;
const payload = encodeForUpstream(typicalBatch(), 'shop', 'protobuf');

/** A transport answering from a script, recording each call. */
function scripted(answers: Array<TransportResponse | Error>) {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const transport: Transport = async (url, _body, headers) => {
    calls.push({ url, headers });
    const answer = answers.shift() ?? { status: 200, retryAfter: undefined };
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { transport, calls };
}

function deps(transport: Transport, breaker = new CircuitBreaker({ failureThreshold: 5, openSeconds: 10 })) {
  const slept: number[] = [];
  let now = 0;
  return {
    slept,
    deps: {
      transport,
      breaker,
      sleep: async (ms: number) => {
        slept.push(ms);
        now += ms;
      },
      now: () => now,
      random: () => 0.5,
    },
  };
}

const ok = { status: 200, retryAfter: undefined };
const status = (code: number, retryAfter?: string) => ({ status: code, retryAfter });

describe('encodeForUpstream', () => {
  it('encodes protobuf by default, JSON as an option, counting spans', () => {
    expect(payload).toMatchObject({ tenant: 'shop', spans: 50, contentType: 'application/x-protobuf' });
    // The same spans as the official OpenTelemetry protobuf serializer wrote them, which also writes the defaults
    // (zero counts, an unset status) that proto3 lets an encoder leave out.
    const withoutDefaults = (request: unknown) =>
      JSON.parse(
        JSON.stringify(request, (key, value) =>
          (/^dropped\w+Count$/.test(key) && value === 0) || (key === 'status' && !value.code && !value.message)
            ? undefined
            : value,
        ),
      );
    expect(withoutDefaults(decodeTraceRequest(payload.body))).toEqual(
      withoutDefaults(decodeTraceRequest(fixtureBytes('typical.pb'))),
    );
    const json = encodeForUpstream(typicalBatch(), 'shop', 'json');
    expect(JSON.parse(new TextDecoder().decode(json.body))).toEqual(typicalBatch());
  });

  it('writes NaN and infinite doubles as the strings of the protobuf JSON mapping, not as null', () => {
    const batch = typicalBatch();
    const span = batch.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (!span) throw new Error('the fixture has no span');
    span.attributes = [Number.NaN, Number.POSITIVE_INFINITY, 0.5].map((doubleValue, i) => ({
      key: `d${i}`,
      value: { doubleValue },
    }));
    const text = new TextDecoder().decode(encodeForUpstream(batch, 'shop', 'json').body);
    expect(text).toContain(
      '"attributes":[{"key":"d0","value":{"doubleValue":"NaN"}},{"key":"d1","value":{"doubleValue":"Infinity"}},{"key":"d2","value":{"doubleValue":0.5}}]',
    );
  });

  it('splits a batch into parts under a size limit without losing or repeating spans', () => {
    const { payloads: parts, oversized } = encodeInParts(typicalBatch(), 'shop', 'protobuf', 8 * 1024);
    expect(oversized).toBe(0);
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) expect(part.body.byteLength).toBeLessThanOrEqual(8 * 1024);
    const spanIds = parts.flatMap((p) =>
      decodeTraceRequest(p.body).resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId)),
      ),
    );
    expect(spanIds).toEqual(
      typicalBatch().resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId))),
    );
  });

  it('merges protobuf payloads of one tenant into one export that decodes to all their spans in order', () => {
    const { payloads: parts } = encodeInParts(typicalBatch(), 'shop', 'protobuf', 8 * 1024);
    const merged = mergePayloads(parts);
    expect(merged).toMatchObject({ tenant: 'shop', contentType: 'application/x-protobuf', spans: 50 });
    expect(decodeTraceRequest(merged.body).resourceSpans.flatMap((rs) => rs.scopeSpans)).toEqual(
      parts.flatMap((p) => decodeTraceRequest(p.body).resourceSpans.flatMap((rs) => rs.scopeSpans)),
    );
    expect(mergePayloads([payload])).toBe(payload);
    expect(mergeKey(parts[0] as UpstreamPayload)).toBe(mergeKey(payload));
    expect(mergeKey({ ...payload, tenant: 'blog' })).not.toBe(mergeKey(payload));
    expect(mergeKey(encodeForUpstream(typicalBatch(), 'shop', 'json'))).toBeUndefined();
  });

  it('groups queued items into exports: by key in arrival order, up to the byte limit, keyless items alone', () => {
    // [name, tenant, bytes]; `j` is JSON, which has no merge key.
    const items: Array<[string, string, number]> = [
      ['a1', 'a', 4],
      ['b1', 'b', 4],
      ['j', 'a', 1],
      ['a2', 'a', 4],
      ['a3', 'a', 4],
      ['big', 'a', 20],
      ['b2', 'b', 2],
    ];
    const payloadOf = ([name, tenant, bytes]: [string, string, number]): UpstreamPayload => ({
      tenant,
      spans: 1,
      contentType: name === 'j' ? 'application/json' : 'application/x-protobuf',
      body: new Uint8Array(bytes),
    });
    const groups = exportGroups(items, payloadOf, 10).map((g) => [g.items.map(([name]) => name), g.full]);
    expect(groups).toEqual([
      [['a1', 'a2'], true],
      [['b1', 'b2'], false],
      [['j'], false],
      [['a3'], true],
      [['big'], false],
    ]);
  });

  it('sends a group as one export, and each of its payloads alone when the upstream refuses the merged one', async () => {
    const { payloads: parts } = encodeInParts(typicalBatch(), 'shop', 'protobuf', 8 * 1024);
    const bad = parts[1] as UpstreamPayload;
    const sent: number[] = [];
    const send = async (p: UpstreamPayload): Promise<ExportResult> => {
      sent.push(p.spans);
      return p === bad || p.spans === 50
        ? { kind: 'failed', reason: 'upstream answered 400', status: 400 }
        : { kind: 'delivered' };
    };
    const results = await sendMerged(parts, send);
    expect(sent).toEqual([50, ...parts.map((p) => p.spans)]);
    expect(results.map((r) => r.kind)).toEqual(parts.map((p) => (p === bad ? 'failed' : 'delivered')));
    sent.length = 0;
    expect(await sendMerged([bad], send)).toEqual([{ kind: 'failed', reason: 'upstream answered 400', status: 400 }]);
    expect(sent).toEqual([bad.spans]);
  });

  it('leaves out and counts a span too large for any part, which the Queue would refuse every time', () => {
    const batch = typicalBatch();
    const spans = batch.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    spans[1]?.attributes?.push({ key: 'big', value: { stringValue: 'x'.repeat(10_000) } });
    const { payloads, oversized } = encodeInParts(batch, 'shop', 'protobuf', 8 * 1024);
    expect(oversized).toBe(1);
    const sent = payloads.flatMap((p) => decodeTraceRequest(p.body).resourceSpans.flatMap((rs) => rs.scopeSpans));
    expect(sent.flatMap((ss) => ss.spans.map((s) => s.spanId))).not.toContain(spans[1]?.spanId);
    expect(payloads.reduce((n, p) => n + p.spans, 0)).toBe(49);
  });
});

describe('exportOnce', () => {
  it('posts to the configured upstream only, with the tenant as X-Scope-OrgID and the bearer token', async () => {
    const { transport, calls } = scripted([ok]);
    expect(await exportOnce(transport, upstream, payload)).toEqual({ kind: 'delivered' });
    expect(calls).toEqual([
      {
        url: 'http://collector:4318/v1/traces',
        headers: {
          'content-type': 'application/x-protobuf',
          'x-scope-orgid': 'shop',
          authorization: 'Bearer collector-token',
        },
      },
    ]);
  });

  it.each([
    [status(429, '7'), { kind: 'retry', afterMs: 7000 }],
    [status(502), { kind: 'retry', afterMs: 0 }],
    [status(503), { kind: 'retry' }],
    [status(504), { kind: 'retry' }],
    [new Error('ECONNREFUSED'), { kind: 'retry', reason: 'upstream unreachable: ECONNREFUSED' }],
    [status(400), { kind: 'failed', reason: 'upstream answered 400', status: 400 }],
    [status(401), { kind: 'failed', status: 401 }],
    [status(500), { kind: 'failed', status: 500 }],
  ])('classifies %o', async (answer, expected) => {
    expect(await exportOnce(scripted([answer]).transport, upstream, payload)).toMatchObject(expected);
  });
});

describe('refusedReason', () => {
  it('names the statuses that say what to fix, and folds the rest', () => {
    expect([400, 401, 403, 404, 413, 418, 500].map(refusedReason)).toEqual([
      'refused_400',
      'refused_401',
      'refused_403',
      'refused_404',
      'refused_413',
      'refused_other',
      'refused_other',
    ]);
  });
});

describe('forwardWithRetry', () => {
  it('retries a 503 with backoff and delivers', async () => {
    const { transport, calls } = scripted([status(503), new Error('reset'), ok]);
    const { deps: d, slept } = deps(transport);
    expect(await forwardWithRetry(payload, d, upstream)).toEqual({ kind: 'delivered' });
    expect(calls).toHaveLength(3);
    expect(slept).toEqual([50, 100]); // half (the jitter) of 100 ms, then of 200 ms
  });

  it('does not retry what the upstream refused for good', async () => {
    const { transport, calls } = scripted([status(400)]);
    expect(await forwardWithRetry(payload, deps(transport).deps, upstream)).toMatchObject({ kind: 'failed' });
    expect(calls).toHaveLength(1);
  });

  it('waits as long as Retry-After asks, and gives up after the configured attempts', async () => {
    const { transport, calls } = scripted([status(429, '1'), status(429, '1'), status(429, '1')]);
    const { deps: d, slept } = deps(transport);
    expect(await forwardWithRetry(payload, d, upstream)).toMatchObject({ kind: 'retry', afterMs: 1000 });
    expect(calls).toHaveLength(3);
    expect(slept).toEqual([1000, 1000]);
  });

  it('hands a Retry-After longer than its longest backoff back to the queue instead of sleeping on it', async () => {
    const { transport, calls } = scripted([status(503, '3600')]);
    const { deps: d, slept } = deps(transport);
    expect(await forwardWithRetry(payload, d, upstream)).toMatchObject({ kind: 'retry', afterMs: 3_600_000 });
    expect(calls).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it('fails fast while the circuit is open, probes once when half-open, and closes on success', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, openSeconds: 10 });
    const { transport, calls } = scripted([new Error('down'), new Error('down'), ok]);
    const d = { ...deps(transport, breaker).deps, sleep: async () => {} };
    let now = 0;
    d.now = () => now;
    const once = { ...upstream, retry: { ...upstream.retry, maxAttempts: 1 } };
    await forwardWithRetry(payload, d, once);
    await forwardWithRetry(payload, d, once);
    expect(breaker.state(now)).toBe('open');
    expect(await forwardWithRetry(payload, d, once)).toMatchObject({
      kind: 'retry',
      afterMs: 10_000,
      reason: /circuit open/,
    });
    expect(calls).toHaveLength(2);
    now = 10_000;
    expect(breaker.state(now)).toBe('half_open');
    expect(await forwardWithRetry(payload, d, once)).toEqual({ kind: 'delivered' });
    expect(breaker.state(now)).toBe('closed');
  });

  it("keeps one breaker per tenant: an upstream refusing one tenant's exports does not stop another's", async () => {
    const breakers = new TenantBreakers({ failureThreshold: 2, openSeconds: 10 });
    // Tempo past the shop tenant's ingestion limit: 429 for it, 200 for the blog.
    const transport: Transport = async (_url, _body, headers) => ({
      status: headers['x-scope-orgid'] === 'shop' ? 429 : 200,
      retryAfter: undefined,
    });
    const blog = encodeForUpstream(typicalBatch(), 'blog', 'protobuf');
    const once = { ...upstream, retry: { ...upstream.retry, maxAttempts: 1 } };
    const send = (p: UpstreamPayload) =>
      forwardWithRetry(p, { ...deps(transport).deps, breaker: breakers.of(p.tenant) }, once);
    await send(payload);
    await send(payload);
    expect(breakers.of('shop').state(0)).toBe('open');
    expect(await send(payload)).toMatchObject({ kind: 'retry', reason: /circuit open/ });
    expect(await send(blog)).toEqual({ kind: 'delivered' });
    expect(breakers.of('blog').state(0)).toBe('closed');
    // Health and the gauge report the worst tenant's state.
    expect(breakers.state(0)).toBe('open');
    expect(breakers.state(10_000)).toBe('half_open');
    expect(new TenantBreakers({ failureThreshold: 2, openSeconds: 10 }).state(0)).toBe('closed');
  });

  it('lets only one probe through while half-open', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openSeconds: 1 });
    breaker.onFailure(0);
    expect(breaker.msUntilAllowed(1000)).toBe(0);
    expect(breaker.msUntilAllowed(1000)).toBeGreaterThan(0);
    breaker.onFailure(1000);
    expect(breaker.state(1500)).toBe('open');
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, jittered below it', () => {
    const retry = upstream.retry;
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffMs(a, 0, retry, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(3, 0, retry, () => 0)).toBe(0);
  });

  it("spreads a Cloudflare Queue message's retries over tens of minutes, honouring a longer Retry-After", () => {
    const delays = (random: () => number) =>
      Array.from({ length: 10 }, (_, attempt) => queueRetryDelaySeconds(attempt, 0, random));
    expect(delays(() => 0)).toEqual([3, 5, 10, 20, 40, 80, 160, 300, 300, 300]);
    expect(delays(() => 1)).toEqual([5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
    // wrangler.toml's 10 retries outlast a 20-minute outage even at the shortest jitter.
    expect(delays(() => 0).reduce((a, b) => a + b)).toBeGreaterThan(20 * 60);
    expect(queueRetryDelaySeconds(0, 3_600_000, () => 0)).toBe(3600);
    expect(queueRetryDelaySeconds(0, 10 ** 9, () => 0)).toBe(12 * 3600);
  });
});
