/**
 * The worker inside workerd, through the same entry Cloudflare runs (`cloudflare.ts`, bindings from
 * wrangler.toml emulated by Miniflare): ingest, Queue consumer forwarding to a real receiver, body limits,
 * the Rate Limiting binding, the KV configuration, and the two requests the browser agent makes.
 */

import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  SELF,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { gzipSync } from 'node:zlib';
import { type ExportTraceServiceRequest, encodeTraceRequest } from '@rumkit/otlp';
import { describe, expect, inject, it, vi } from 'vitest';
import worker, { createWorker } from './cloudflare.ts';
import type { UpstreamPayload } from './pipeline/forward.ts';
import { chunkedBody } from './testing/chunkedBody.ts';
import { FIXTURE_NOW_MS, SHOP_KEY, SHOP_ORIGIN } from './testing/config.ts';

// workerd has no file system: the global setup reads the fixture in Node and provides it.
const typicalJson = inject('typicalJson');
const typicalProtobuf = encodeTraceRequest(JSON.parse(typicalJson) as ExportTraceServiceRequest);

interface Received {
  path: string;
  headers: Record<string, string>;
  traces?: ExportTraceServiceRequest;
  metrics?: unknown;
}

async function received(): Promise<Received[]> {
  return (await fetch(`${env.RUMKIT_UPSTREAM_URL}/received`)).json() as Promise<Received[]>;
}

const post = (headers: Record<string, string>, body: RequestInit['body'] = typicalJson) =>
  SELF.fetch('https://edge.example/v1/traces', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-rumkit-key': SHOP_KEY, ...headers },
    body,
  } as RequestInit);

/** A Queue message's body as the producer wrote it (the consumer only forwards the bytes). */
const queuedBatch = (spans: number): UpstreamPayload => ({
  tenant: 'shop',
  spans,
  contentType: 'application/x-protobuf',
  body: new Uint8Array(0),
});
/**
 * A new isolate's answer to `/health` (an isolate that never had a good configuration), and the lines it wrote to
 * console.error meanwhile.
 */
async function newIsolateHealth(overrides: Record<string, unknown>): Promise<{ res: Response; errors: string[] }> {
  const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const res = await createWorker().fetch(
      new Request('https://edge.example/health'),
      { ...env, ...overrides },
      createExecutionContext(),
    );
    return { res, errors: logged.mock.calls.map(([line]) => String(line)) };
  } finally {
    logged.mockRestore();
  }
}

/** Nothing listens on port 9 (discard) of the loopback. */
const upstreamDown = { ...env, RUMKIT_UPSTREAM_URL: 'http://127.0.0.1:9' };

describe('the worker in workerd', () => {
  it('accepts a batch, queues it, and the Queue consumer forwards it as protobuf with the tenant', async () => {
    const res = await post({ origin: SHOP_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    await vi.waitFor(
      async () => {
        const traces = (await received()).filter((r) => r.path === '/v1/traces');
        expect(traces.length).toBeGreaterThan(0);
        expect(traces[0]?.headers['x-scope-orgid']).toBe('shop');
        expect(traces[0]?.headers['content-type']).toBe('application/x-protobuf');
        const spans = traces.flatMap(
          (r) => r.traces?.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)) ?? [],
        );
        expect(spans).toHaveLength(50);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('adds coarse geography from request.cf to the resource it forwards, and never the client address', async () => {
    const batch = JSON.parse(typicalJson) as ExportTraceServiceRequest;
    for (const rs of batch.resourceSpans) {
      rs.resource = { attributes: [{ key: 'service.name', value: { stringValue: 'geo-check' } }] };
    }
    const res = await SELF.fetch('https://edge.example/v1/traces', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-rumkit-key': SHOP_KEY, 'cf-connecting-ip': '198.51.100.23' },
      body: JSON.stringify(batch),
      cf: { country: 'DE', continent: 'EU', regionCode: 'HE', colo: 'FRA', asn: 3320 },
    } as RequestInit);
    expect(res.status).toBe(200);
    const resource = await vi.waitFor(
      async () => {
        const found = (await received())
          .flatMap((r) => r.traces?.resourceSpans ?? [])
          .map((rs) => rs.resource)
          .find((r) => r?.attributes.some((kv) => kv.value.stringValue === 'geo-check'));
        expect(found).toBeDefined();
        return found;
      },
      { timeout: 10_000, interval: 200 },
    );
    const attributes = Object.fromEntries(
      (resource?.attributes ?? []).map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue]),
    );
    expect(attributes).toMatchObject({
      'geo.country.iso_code': 'DE',
      'geo.continent.code': 'EU',
      'geo.region.iso_code': 'DE-HE',
      'rumkit.edge.colo': 'FRA',
      'rumkit.client.asn': '3320',
    });
    expect(JSON.stringify(resource)).not.toContain('198.51.100.23');
  });

  it('refuses a chunked body past the limit with 413', async () => {
    const { body, pulled } = chunkedBody();
    const res = await post({}, body);
    expect(res.status).toBe(413);
    // The limit is 32 chunks; workerd reads a few ahead, but never the 4 MB.
    expect(pulled()).toBeLessThan(100);
    expect(await res.json()).toEqual({ error: 'too_large', message: 'the body is larger than 131072 bytes' });
  });

  it('refuses a gzip bomb with 413', async () => {
    const bomb = gzipSync(new Uint8Array(32 * 1024 * 1024));
    const res = await post({ 'content-encoding': 'gzip' }, bomb);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'too_large', message: 'the body is larger than 262144 bytes' });
  });

  it('takes protobuf and answers in protobuf', async () => {
    const res = await post({ 'content-type': 'application/x-protobuf' }, typicalProtobuf);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
  });

  it("serves the browser agent's two requests: GET /v1/config, and text/plain with key and clock in the query", async () => {
    const config = await SELF.fetch(`https://edge.example/v1/config?key=${SHOP_KEY}`, {
      headers: { origin: SHOP_ORIGIN },
    });
    expect(config.status).toBe(200);
    expect(config.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    expect(config.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await config.json()).toMatchObject({ sampleRate: 1 });

    const res = await SELF.fetch(`https://edge.example/v1/traces?key=${SHOP_KEY}&sent_at=${FIXTURE_NOW_MS}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: SHOP_ORIGIN },
      body: typicalJson,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partialSuccess: {} });
  });

  it('answers 429 once the Rate Limiting binding says no', async () => {
    // wrangler.toml allows 100 per 10 s per client; the worker's own buckets are set high for this test.
    let status = 200;
    let sent = 0;
    while (status !== 429 && sent < 200) {
      sent++;
      status = (await post({ 'cf-connecting-ip': '192.0.2.1' }, '{"resourceSpans":[]}')).status;
    }
    expect(status).toBe(429);
    expect(sent).toBeGreaterThan(100);
  }, 60_000);

  it('retries a message while the upstream is down, and acks it once delivered', async () => {
    const messages = [{ id: 'm1', timestamp: new Date(), attempts: 1, body: queuedBatch(1) }];
    const downCtx = createExecutionContext();
    const downBatch = createMessageBatch('rumkit-forward', messages);
    await worker.queue(downBatch, upstreamDown, downCtx);
    expect(await getQueueResult(downBatch, downCtx)).toMatchObject({
      retryMessages: [{ msgId: 'm1' }],
      explicitAcks: [],
    });
    const upCtx = createExecutionContext();
    const upBatch = createMessageBatch('rumkit-forward', messages);
    await worker.queue(upBatch, env, upCtx);
    expect(await getQueueResult(upBatch, upCtx)).toMatchObject({ retryMessages: [], explicitAcks: ['m1'] });
  });

  it("merges a tenant's batches of one delivery into one export, and acks each of them", async () => {
    const message = (id: string, tenant: string) => ({
      id,
      timestamp: new Date(),
      attempts: 1,
      body: { tenant, spans: 50, contentType: 'application/x-protobuf' as const, body: typicalProtobuf },
    });
    const traces = async () => (await received()).filter((r) => r.path === '/v1/traces');
    const before = (await traces()).length;
    const ctx = createExecutionContext();
    const batch = createMessageBatch('rumkit-forward', [
      message('a', 'shop'),
      message('b', 'blog'),
      message('c', 'shop'),
    ]);
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect([...result.explicitAcks].sort()).toEqual(['a', 'b', 'c']);
    const exports = (await traces()).slice(before);
    const spansOf = (r: Received | undefined) =>
      r?.traces?.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length;
    expect(exports.map((r) => [r.headers['x-scope-orgid'], spansOf(r)])).toEqual([
      ['shop', 100],
      ['blog', 50],
    ]);
  });

  it('drops a message that is not a batch of the worker, and forwards the rest of the delivery', async () => {
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const ctx = createExecutionContext();
      const batch = createMessageBatch('rumkit-forward', [
        { id: 'foreign', timestamp: new Date(), attempts: 1, body: { hello: 'from the dashboard' } as never },
        { id: 'ours', timestamp: new Date(), attempts: 1, body: queuedBatch(1) },
      ]);
      await createWorker().queue(batch, env, ctx);
      const result = await getQueueResult(batch, ctx);
      expect(result.retryMessages).toEqual([]);
      expect([...result.explicitAcks].sort()).toEqual(['foreign', 'ours']);
      expect(logged.mock.calls.map(([line]) => String(line))).toContainEqual(
        expect.stringContaining('not a batch of this worker'),
      );
    } finally {
      logged.mockRestore();
    }
  });

  it('does not follow a redirect from the upstream: the batch is refused there, not sent elsewhere', async () => {
    const traces = async () => (await received()).filter((r) => r.path === '/v1/traces').length;
    const before = await traces();
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const ctx = createExecutionContext();
      const batch = createMessageBatch('rumkit-forward', [
        { id: 'r', timestamp: new Date(), attempts: 1, body: queuedBatch(1) },
      ]);
      const moved = { ...env, RUMKIT_UPSTREAM_URL: `${env.RUMKIT_UPSTREAM_URL}/moved` };
      await createWorker().queue(batch, moved, ctx);
      expect(await getQueueResult(batch, ctx)).toMatchObject({ retryMessages: [], explicitAcks: ['r'] });
      expect(logged.mock.calls.map(([line]) => String(line))).toContainEqual(
        expect.stringContaining('upstream answered 307'),
      );
    } finally {
      logged.mockRestore();
    }
    expect(await traces()).toBe(before);
  });

  it('counts the spans of a batch that fails its last attempt as dropped: Cloudflare dead-letters it', async () => {
    // The var the worker reads is the consumer's max_retries in wrangler.toml.
    const maxRetries = Number(env.RUMKIT_QUEUE_MAX_RETRIES);
    expect(maxRetries).toBe(inject('queueMaxRetries'));
    const warned = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      for (const attempts of [maxRetries, maxRetries + 1]) {
        const ctx = createExecutionContext();
        const batch = createMessageBatch('rumkit-forward', [
          { id: `m${attempts}`, timestamp: new Date(), attempts, body: queuedBatch(7) },
        ]);
        await worker.queue(batch, upstreamDown, ctx);
        expect(await getQueueResult(batch, ctx)).toMatchObject({ retryMessages: [{ msgId: `m${attempts}` }] });
      }
      const deadLettered = warned.mock.calls.filter(([line]) => String(line).includes('dead-lettered'));
      expect(deadLettered).toHaveLength(1);
      expect(JSON.parse(String(deadLettered[0]?.[0]))).toMatchObject({ tenant: 'shop', spans: 7 });
    } finally {
      warned.mockRestore();
    }
  });

  it('reads its configuration from KV when there is one, and names a bad key in its log only', async () => {
    const kv = { get: async () => 'tenants: []\nupstream: { url: http://x }' };
    const { res, errors } = await newIsolateHealth({ RUMKIT_KV: kv });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'config' });
    expect(body).not.toContain('tenants');
    expect(errors).toEqual([expect.stringContaining('tenants: at least one tenant is required')]);
  });

  it('reads the var when the KV entry is empty', async () => {
    const { res, errors } = await newIsolateHealth({ RUMKIT_KV: { get: async () => '' } });
    expect(res.status).toBe(200);
    expect(errors).toEqual([]);
  });

  it('answers 503 with Retry-After and CORS headers when KV fails, so the agent can read when to try again', async () => {
    const kv = {
      get: async () => {
        throw new Error('KV GET failed: 500 Internal Server Error');
      },
    };
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const res = await createWorker().fetch(
        new Request('https://edge.example/v1/traces', {
          method: 'POST',
          headers: { 'content-type': 'text/plain', origin: SHOP_ORIGIN },
          body: typicalJson,
        }),
        { ...env, RUMKIT_KV: kv },
        createExecutionContext(),
      );
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('10');
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
      expect(res.headers.get('access-control-expose-headers')).toBe('retry-after');
      expect(await res.json()).toMatchObject({ error: 'unavailable' });
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('KV GET failed'));
    } finally {
      logged.mockRestore();
    }
  });

  it('goes on with its last good configuration when a reload fails, and says why in its log', async () => {
    // Before the isolate starts: its logger writes with the console.log it finds then.
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const isolate = createWorker();
    const health = (kv?: { get(): Promise<string | null> }) =>
      isolate.fetch(new Request('https://edge.example/health'), { ...env, RUMKIT_KV: kv }, createExecutionContext());
    try {
      expect((await health()).status).toBe(200);
      const bad = { get: async () => 'tenants: []\nupstream: { url: http://x }' };
      const failing = {
        get: async (): Promise<string> => {
          throw new Error('KV GET failed: 500 Internal Server Error');
        },
      };
      expect((await health(bad)).status).toBe(200);
      expect((await health(failing)).status).toBe(200);
      const reasons = logged.mock.calls
        .map(([line]) => JSON.parse(String(line)) as { msg: string; message: string })
        .filter((entry) => entry.msg.startsWith('configuration reload failed'))
        .map((entry) => entry.message);
      expect(reasons).toEqual([
        expect.stringContaining('at least one tenant'),
        expect.stringContaining('KV GET failed'),
      ]);
    } finally {
      logged.mockRestore();
    }
  });

  it('without any configuration, holds each Queue message back longer at each attempt, and logs what it dead-letters', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const maxRetries = Number(env.RUMKIT_QUEUE_MAX_RETRIES);
      const ctx = createExecutionContext();
      const batch = createMessageBatch('rumkit-forward', [
        { id: 'first', timestamp: new Date(), attempts: 1, body: queuedBatch(3) },
        { id: 'third', timestamp: new Date(), attempts: 3, body: queuedBatch(4) },
        { id: 'last', timestamp: new Date(), attempts: maxRetries + 1, body: queuedBatch(5) },
      ]);
      const kv = { get: async () => 'tenants: []\nupstream: { url: http://x }' };
      const retries = batch.messages.map((message) => vi.spyOn(message, 'retry'));
      await createWorker().queue(batch, { ...env, RUMKIT_KV: kv }, ctx);
      // Cloudflare counts a wait as an attempt: a minute, then doubling, so the retries span hours, not minutes.
      expect(retries.map((retry) => retry.mock.calls[0]?.[0])).toEqual([
        { delaySeconds: 60 },
        { delaySeconds: 240 },
        { delaySeconds: Math.min(43_200, 60 * 2 ** maxRetries) },
      ]);
      expect(await getQueueResult(batch, ctx)).toMatchObject({ explicitAcks: [], retryBatch: { retry: false } });
      const lines = logged.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
      expect(lines.filter((line) => String(line.msg).includes('dead-lettered'))).toEqual([
        expect.objectContaining({ tenant: 'shop', spans: 5 }),
      ]);
    } finally {
      logged.mockRestore();
    }
  });

  it('loads its configuration once for the requests that arrive together: one app for all, not one each', async () => {
    let reads = 0;
    const slowKv = {
      get: async () => {
        reads++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return null;
      },
    };
    const isolate = createWorker();
    const ingest = () =>
      isolate.fetch(
        new Request('https://edge.example/v1/traces', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-rumkit-key': SHOP_KEY },
          body: typicalJson,
        }),
        { ...env, RUMKIT_KV: slowKv, RUMKIT_CONFIG_TTL_SECONDS: '60' },
        createExecutionContext(),
      );
    const answers = await Promise.all(Array.from({ length: 10 }, ingest));
    expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
    expect(reads).toBe(1);
    // Each would have built an app, with metrics of its own, of which the isolate keeps the last. The one loaded
    // stands for its time to live.
    const health = await isolate.fetch(
      new Request('https://edge.example/health'),
      { ...env, RUMKIT_KV: slowKv, RUMKIT_CONFIG_TTL_SECONDS: '60' },
      createExecutionContext(),
    );
    expect(health.status).toBe(200);
    expect(reads).toBe(1);
  });

  it('without a configuration, answers from the failure it remembers for its Retry-After: one KV read and one log line', async () => {
    let reads = 0;
    const kv = {
      get: async () => {
        reads++;
        return 'tenants: []\nupstream: { url: http://x }';
      },
    };
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const isolate = createWorker();
      const statuses = [];
      for (let i = 0; i < 5; i++) {
        const res = await isolate.fetch(
          new Request('https://edge.example/health'),
          { ...env, RUMKIT_KV: kv },
          createExecutionContext(),
        );
        statuses.push(res.status);
      }
      expect(statuses).toEqual([503, 503, 503, 503, 503]);
      expect(reads).toBe(1);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0]?.[0])).toContain('next try in 60 s');
    } finally {
      logged.mockRestore();
    }
  });

  it('refuses to start on a count var that is not a whole number, naming it', async () => {
    for (const name of ['RUMKIT_CONFIG_TTL_SECONDS', 'RUMKIT_QUEUE_MAX_RETRIES']) {
      const { res, errors } = await newIsolateHealth({ [name]: '1m' });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'config' });
      expect(errors).toEqual([expect.stringContaining(`${name}: a whole number is required, not \\"1m\\"`)]);
    }
  });

  it('names where bad YAML came from without quoting its lines, which may hold a token', async () => {
    const kv = { get: async () => 'upstream:\n  bearerToken: s3cr3t-token-value: oops\n' };
    const { res, errors } = await newIsolateHealth({ RUMKIT_KV: kv });
    expect(res.status).toBe(503);
    expect(errors).toEqual([expect.stringContaining('the `config` entry of RUMKIT_KV: not valid YAML')]);
    expect(errors.join('\n')).not.toContain('s3cr3t');
  });

  it('lets a request through, and logs, when the Rate Limiting binding fails', async () => {
    const silenced = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const failingLimiter = {
        limit: async (): Promise<{ success: boolean }> => {
          throw new Error('rate limiter unavailable');
        },
      };
      const res = await createWorker().fetch(
        new Request('https://edge.example/v1/traces', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-rumkit-key': SHOP_KEY, 'cf-connecting-ip': '192.0.2.9' },
          body: '{"resourceSpans":[]}',
        }),
        { ...env, ABUSE_LIMITER: failingLimiter },
        createExecutionContext(),
      );
      expect(res.status).toBe(200);
      expect(silenced.mock.calls.some(([line]) => String(line).includes('rate limiting binding failed'))).toBe(true);
    } finally {
      silenced.mockRestore();
    }
  });

  it('exports the RUM metrics to the upstream once an export interval has passed', async () => {
    // The test configuration exports at most once a second (vitest.workerd.config.ts).
    const ingest = async () => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request('https://edge.example/v1/traces', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-rumkit-key': SHOP_KEY },
          body: typicalJson,
        }),
        env,
        ctx,
      );
      expect(res.status).toBe(200);
      await waitOnExecutionContext(ctx);
    };
    const exports = async () => (await received()).filter((r) => r.path === '/v1/metrics');
    await ingest();
    const before = (await exports()).length;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await ingest();
    const after = await exports();
    expect(after).toHaveLength(before + 1);
    const names = JSON.stringify(after.at(-1)?.metrics);
    expect(names).toContain('"rumkit.web_vital.lcp"');
    expect(names).toContain('"rumkit.edge.spans"');
    expect(names).toContain('"shop"');

    // The Queue consumer exports too, so its outcomes arrive even when no ingest request follows.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const ctx = createExecutionContext();
    const batch = createMessageBatch('rumkit-forward', [
      { id: 'exported', timestamp: new Date(), attempts: 1, body: queuedBatch(3) },
    ]);
    await worker.queue(batch, env, ctx);
    await waitOnExecutionContext(ctx);
    const afterConsumer = await exports();
    expect(afterConsumer).toHaveLength(before + 2);
    expect(JSON.stringify(afterConsumer.at(-1)?.metrics)).toContain('"forwarded"');
  });
});
