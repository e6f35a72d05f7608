import { gzipSync } from 'node:zlib';
import {
  type AnyValue,
  decodeTraceRequest,
  decodeTraceResponse,
  type ExportTraceServiceRequest,
  encodeTraceRequest,
} from '@rumkit/otlp';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.ts';
import { createLogger } from './log.ts';
import { reject } from './pipeline/rejection.ts';
import { chunkedBody } from './testing/chunkedBody.ts';
import {
  BLOG_KEY,
  BLOG_ORIGIN,
  FIXTURE_NOW_MS,
  fixtureBytes,
  SHOP_KEY,
  SHOP_ORIGIN,
  testConfig,
  typicalBatch,
} from './testing/config.ts';
import { memoryRuntime } from './testing/runtime.ts';

const silent = createLogger('error', () => {});
const json = fixtureBytes('typical.json');
/** The typical batch's first 20 spans: under 64 KiB, so one token of a rate limit (the whole is 77.7 KB: two). */
const small = (() => {
  const batch = JSON.parse(new TextDecoder().decode(json)) as ExportTraceServiceRequest;
  const spans = batch.resourceSpans.flatMap((rs) => rs.scopeSpans).flatMap((ss) => ss.spans);
  const keep = new Set(spans.slice(0, 20));
  for (const ss of batch.resourceSpans.flatMap((rs) => rs.scopeSpans)) ss.spans = ss.spans.filter((s) => keep.has(s));
  return new TextEncoder().encode(JSON.stringify(batch));
})();

function setup(
  configOverrides: Record<string, unknown> = {},
  runtimeOverrides: Parameters<typeof memoryRuntime>[0] = {},
) {
  const { runtime, delivered } = memoryRuntime(runtimeOverrides);
  const app = createApp(testConfig(configOverrides), runtime, undefined, silent);
  const post = (headers: Record<string, string>, body: RequestInit['body'] = json, path = '/v1/traces') =>
    // duplex: streamed request bodies need it (fetch's RequestInit type does not know it yet).
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
  return { app, delivered, post };
}

const spansIn = (request: ExportTraceServiceRequest) =>
  request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

describe('POST /v1/traces', () => {
  it('accepts an OTLP/JSON batch and forwards it as protobuf with every span', async () => {
    const { post, delivered } = setup();
    const res = await post({ 'x-rumkit-key': SHOP_KEY, origin: SHOP_ORIGIN });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partialSuccess: {} });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ tenant: 'shop', spans: 50, contentType: 'application/x-protobuf' });
    expect(spansIn(decodeTraceRequest(delivered[0]?.body as Uint8Array))).toHaveLength(50);
  });

  it('takes sendBeacon bodies: text/plain, key and sent_at in the query, on the neutral alias path', async () => {
    const { app, delivered } = setup();
    const res = await app.request(`/t?key=${SHOP_KEY}&sent_at=${FIXTURE_NOW_MS}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: SHOP_ORIGIN },
      body: json,
    });
    expect(res.status).toBe(200);
    expect(delivered[0]?.spans).toBe(50);
  });

  it('answers a protobuf request in protobuf, with partial success for rejected spans', async () => {
    const { post } = setup({ limits: { maxSpansPerBatch: 45 } });
    const res = await post(
      { 'x-rumkit-key': SHOP_KEY, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      gzipSync(fixtureBytes('typical.pb')),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(decodeTraceResponse(new Uint8Array(await res.arrayBuffer()))).toEqual({
      partialSuccess: { rejectedSpans: '5', errorMessage: '5 spans rejected: more than 45 spans in one request' },
    });
  });

  it('drops an attribute nested too deeply and keeps its span, whether the batch is JSON or protobuf', async () => {
    let deep: AnyValue = { stringValue: 'leaf' };
    for (let i = 0; i < 40; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
    const batch = typicalBatch();
    spansIn(batch)[0]?.attributes?.push({ key: 'deep', value: deep });
    const { post, delivered } = setup();
    const asJson = await post({ 'x-rumkit-key': SHOP_KEY }, JSON.stringify(batch));
    const asProtobuf = await post(
      { 'x-rumkit-key': SHOP_KEY, 'content-type': 'application/x-protobuf' },
      encodeTraceRequest(batch),
    );
    expect([asJson.status, asProtobuf.status]).toEqual([200, 200]);
    const forwarded = delivered.map((d) => decodeTraceRequest(d.body as Uint8Array));
    expect(forwarded.map((request) => spansIn(request).length)).toEqual([50, 50]);
    for (const request of forwarded) {
      const first = spansIn(request)[0];
      expect(first?.attributes?.some((kv) => kv.key === 'deep')).toBe(false);
      expect(first?.droppedAttributesCount).toBe(1);
    }
  });

  it.each([
    [{}, 401, 'unauthorized'],
    [{ 'x-rumkit-key': 'nope' }, 401, 'unauthorized'],
    [{ 'x-rumkit-key': SHOP_KEY, origin: 'https://evil.example' }, 403, 'origin_denied'],
    [{ 'x-rumkit-key': SHOP_KEY, 'content-type': 'application/xml' }, 415, 'unsupported_media_type'],
    [{ 'x-rumkit-key': SHOP_KEY, 'content-encoding': 'br' }, 415, 'unsupported_media_type'],
  ])('refuses %o with %i and a JSON error naming the problem', async (headers, status, error) => {
    const res = await setup().post(headers);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe(error);
    expect(body.message.length).toBeGreaterThan(10);
  });

  it('answers 400 to a body that is not OTLP and 413 to one over the limit', async () => {
    const { post } = setup({ limits: { maxBodyBytes: 1000 } });
    expect((await post({ 'x-rumkit-key': SHOP_KEY }, '{"resourceSpans":3}')).status).toBe(400);
    const res = await post({ 'x-rumkit-key': SHOP_KEY });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'too_large', message: 'the body is larger than 1000 bytes' });
  });

  it('refuses a chunked body (no Content-Length) once it passes the limit', async () => {
    const { post } = setup({ limits: { maxBodyBytes: 16 * 1024 } });
    const { body, pulled } = chunkedBody();
    const res = await post({ 'x-rumkit-key': SHOP_KEY }, body);
    expect(res.status).toBe(413);
    expect(pulled()).toBeLessThan(20);
  });

  it('refuses a gzip bomb with 413', async () => {
    const { post } = setup();
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, ' '));
    const res = await post({ 'x-rumkit-key': SHOP_KEY, 'content-encoding': 'gzip' }, bomb);
    expect(res.status).toBe(413);
  });

  it('keeps tenants apart: a key writes into its own tenant whatever the request claims', async () => {
    const { post, delivered } = setup();
    await post({ 'x-rumkit-key': BLOG_KEY, origin: BLOG_ORIGIN, 'x-scope-orgid': 'shop' });
    await post({ 'x-rumkit-key': SHOP_KEY, origin: SHOP_ORIGIN, 'x-scope-orgid': 'blog' });
    expect(delivered.map((p) => p.tenant)).toEqual(['blog', 'shop']);
    expect((await post({ 'x-rumkit-key': BLOG_KEY, origin: SHOP_ORIGIN })).status).toBe(403);
  });

  it('never forwards the client address', async () => {
    const { post, delivered } = setup();
    await post({ 'x-rumkit-key': SHOP_KEY, 'x-test-client-ip': '198.51.100.77', 'x-forwarded-for': '198.51.100.77' });
    expect(Buffer.from(delivered[0]?.body as Uint8Array).toString('latin1')).not.toContain('198.51.100.77');
  });

  it('samples per tenant, trace-consistently, and tells the agent the rate', async () => {
    const tenants = testConfig().tenants.map((t) => ({ ...t, sampleRate: t.id === 'shop' ? 0 : 1 }));
    const { post, delivered, app } = setup({ tenants });
    expect((await post({ 'x-rumkit-key': SHOP_KEY })).status).toBe(200);
    expect(delivered).toHaveLength(0);
    await post({ 'x-rumkit-key': BLOG_KEY });
    expect(delivered).toHaveLength(1);
    const config = await app.request(`/v1/config?key=${SHOP_KEY}`, { headers: { origin: SHOP_ORIGIN } });
    expect(await config.json()).toEqual({ sampleRate: 0, maxBatchBytes: 512 * 1024, maxSpansPerBatch: 1000 });
    expect(config.headers.get('cache-control')).toBe('public, max-age=300');
    expect(config.headers.get('vary')?.split(/,\s*/).sort()).toEqual(['Origin', 'x-rumkit-key', 'x-rumkit-token']);
    expect(config.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    expect((await app.request('/v1/config?key=nope')).status).toBe(401);
  });

  it('answers 429 with Retry-After past the per-key rate', async () => {
    const { post } = setup({ rateLimit: { perKey: { ratePerSecond: 1, burst: 2 } } });
    expect((await post({ 'x-rumkit-key': SHOP_KEY }, small)).status).toBe(200);
    expect((await post({ 'x-rumkit-key': SHOP_KEY }, small)).status).toBe(200);
    const res = await post({ 'x-rumkit-key': SHOP_KEY }, small);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('charges a batch one token per 64 KiB started once inflated, before scrubbing it, to its address and key', async () => {
    expect(small.byteLength).toBeLessThanOrEqual(65_536);
    expect(json.byteLength).toBeGreaterThan(65_536);
    const byAddress = setup({ rateLimit: { perIp: { ratePerSecond: 0.001, burst: 3 } } });
    const from = (ip: string, body: Uint8Array, headers: Record<string, string> = {}) =>
      byAddress.post({ 'x-rumkit-key': SHOP_KEY, 'x-test-client-ip': ip, ...headers }, body);
    expect((await from('198.51.100.1', json)).status).toBe(200); // two tokens of three
    const refused = await from('198.51.100.1', json);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(await refused.json()).toMatchObject({ message: 'too many bytes from this address' });
    expect(byAddress.delivered).toHaveLength(1);
    // The size counts inflated: the same batch gzipped is 8 KB on the wire, and still two tokens.
    const gzipped = new Uint8Array(gzipSync(json));
    expect((await from('198.51.100.2', gzipped, { 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await from('198.51.100.2', gzipped, { 'content-encoding': 'gzip' })).status).toBe(429);
    // A body that turns out malformed has paid for its size too, before its parse failed: one token is left.
    const malformed = json.slice(0, -1);
    expect((await from('198.51.100.5', malformed)).status).toBe(400);
    expect((await from('198.51.100.5', json)).status).toBe(429);

    // A batch dearer than the burst (5 units against 3) passes from a bucket full before it, and leaves it in debt.
    const large = new TextEncoder().encode(`{"resourceSpans":[]${' '.repeat(300_000)}}`);
    expect((await from('198.51.100.3', large)).status).toBe(200);
    expect((await from('198.51.100.3', small)).status).toBe(429);

    // The key's bucket, which every sender of the key shares, is charged as well.
    const byKey = setup({ rateLimit: { perKey: { ratePerSecond: 0.001, burst: 3 } } });
    expect((await byKey.post({ 'x-rumkit-key': SHOP_KEY }, json)).status).toBe(200);
    const keyRefused = await byKey.post({ 'x-rumkit-key': SHOP_KEY }, json);
    expect(keyRefused.status).toBe(429);
    expect(await keyRefused.json()).toMatchObject({ message: 'too many bytes for this key' });
    // What the key refused is not charged to the address: one behind a key's limit keeps its own tokens.
    const both = setup({
      rateLimit: { perKey: { ratePerSecond: 0.001, burst: 3 }, perIp: { ratePerSecond: 0.001, burst: 5 } },
    });
    const fromBoth = (key: string, body: Uint8Array) =>
      both.post({ 'x-rumkit-key': key, 'x-test-client-ip': '198.51.100.4' }, body);
    expect((await fromBoth(SHOP_KEY, json)).status).toBe(200); // the key has 1 token left, the address 3
    const byBytes = await fromBoth(SHOP_KEY, json); // admitted by both, then refused by the key for its size
    expect(await byBytes.json()).toMatchObject({ message: 'too many bytes for this key' });
    // The address paid the admission (2 left), not the size: two more requests of another key pass, not one.
    expect((await fromBoth(BLOG_KEY, small)).status).toBe(200);
    expect((await fromBoth(BLOG_KEY, small)).status).toBe(200);
    expect((await fromBoth(BLOG_KEY, small)).status).toBe(429);
  });

  it("spends the key's shared tokens only on clients within their own address limit", async () => {
    const { post } = setup({
      rateLimit: { perKey: { ratePerSecond: 0.001, burst: 3 }, perIp: { ratePerSecond: 0.001, burst: 1 } },
    });
    const from = (ip: string) => post({ 'x-rumkit-key': SHOP_KEY, 'x-test-client-ip': ip }, small);
    expect((await from('198.51.100.1')).status).toBe(200);
    // One client hammering past its own limit…
    for (let i = 0; i < 5; i++) expect((await from('198.51.100.1')).status).toBe(429);
    // …leaves the key's remaining tokens to the other users of the key.
    expect((await from('198.51.100.2')).status).toBe(200);
    expect((await from('198.51.100.3')).status).toBe(200);
    expect((await from('198.51.100.4')).status).toBe(429);
  });

  it('limits an address sending wrong keys like any other, and logs those refusals only at debug', async () => {
    const lines: string[] = [];
    const config = testConfig({ rateLimit: { perIp: { ratePerSecond: 0.001, burst: 2 } } });
    const app = createApp(
      config,
      memoryRuntime().runtime,
      undefined,
      createLogger('info', (l) => lines.push(l)),
    );
    const from = (ip: string, key: string) =>
      app.request('/v1/traces', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-rumkit-key': key, 'x-test-client-ip': ip },
        body: json,
      });
    expect((await from('198.51.100.9', 'pk_wrong')).status).toBe(401);
    expect((await from('198.51.100.9', 'pk_wrong')).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await from('198.51.100.9', 'pk_wrong')).status).toBe(429);
    expect(lines.filter((l) => l.includes('"status":401'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('"status":429'))).toHaveLength(0);
    // Another address is not held by this one.
    expect((await from('198.51.100.10', SHOP_KEY)).status).toBe(200);
  });

  it('derives the RUM metrics from every accepted span, whatever the sampling keeps', async () => {
    const rumLines = async (sampleRate: number) => {
      const tenants = testConfig().tenants.map((t) => ({ ...t, sampleRate }));
      const { app, post, delivered } = setup({ tenants });
      expect((await post({ 'x-rumkit-key': SHOP_KEY })).status).toBe(200);
      const text = await (await app.request('/metrics')).text();
      const lines = text.split('\n').filter((line) => /^rumkit_(fetch|page_views|web_vital|js_errors)/.test(line));
      return { lines, forwarded: delivered.length };
    };
    const all = await rumLines(1);
    const none = await rumLines(0);
    expect(none.forwarded).toBe(0);
    expect(all.forwarded).toBe(1);
    expect(all.lines.some((line) => line.startsWith('rumkit_fetch_duration_seconds_count'))).toBe(true);
    expect(none.lines).toEqual(all.lines);
  });

  it('counts refusals after a valid key against its tenant', async () => {
    const { app, post } = setup({ rateLimit: { perKey: { ratePerSecond: 0.001, burst: 1 } } });
    await post({ 'x-rumkit-key': SHOP_KEY }, small);
    await post({ 'x-rumkit-key': SHOP_KEY }, small);
    await post({ 'x-rumkit-key': SHOP_KEY, origin: 'https://evil.example' });
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('rumkit_edge_requests_total{tenant="shop",outcome="rate_limited"} 1');
    expect(text).toContain('rumkit_edge_requests_total{tenant="shop",outcome="origin_denied"} 1');
    expect(text).not.toContain('tenant="unknown"');
  });

  it('answers 503 with Retry-After past the delivery capacity, never dropping silently', async () => {
    const { post } = setup({}, { capacity: 1 });
    expect((await post({ 'x-rumkit-key': SHOP_KEY })).status).toBe(200);
    const res = await post({ 'x-rumkit-key': SHOP_KEY });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ error: 'queue_overflow' });
  });

  it('counts no span, redaction or RUM metric of a batch the delivery refused, which the sender sends again', async () => {
    const { app, post } = setup({}, { deliver: async () => reject('queue_overflow', 'the spool is full', 5) });
    expect((await post({ 'x-rumkit-key': SHOP_KEY })).status).toBe(503);
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('rumkit_edge_requests_total{tenant="shop",outcome="queue_overflow"} 1');
    expect(text).not.toMatch(/rumkit_edge_spans_total\{|rumkit_edge_redactions_total\{|rumkit_page_views_total\{/);
  });

  it('answers partial success for a span too large for the runtime to queue, and delivers the rest', async () => {
    const { post, delivered } = setup({}, { maxPayloadBytes: 8192 });
    const batch = typicalBatch();
    // Each value within the attribute length limit; together more than a queue message holds.
    for (const key of ['a', 'b', 'c']) {
      spansIn(batch)[1]?.attributes?.push({ key, value: { stringValue: key.repeat(4000) } });
    }
    const res = await post({ 'x-rumkit-key': SHOP_KEY }, JSON.stringify(batch));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringContaining('larger than 8192 bytes') },
    });
    expect(delivered.reduce((n, p) => n + p.spans, 0)).toBe(49);
  });

  it('consults the runtime’s abuse guard by address for every request, wrong keys included', async () => {
    const asked: string[] = [];
    const abuseGuard = async (id: string) => {
      asked.push(id);
      return false;
    };
    const { post } = setup({}, { abuseGuard });
    const refused = await post({ 'x-rumkit-key': SHOP_KEY, 'x-test-client-ip': '2001:db8:1:2::7' });
    expect(refused.status).toBe(429);
    // The binding's period in wrangler.toml.
    expect(refused.headers.get('retry-after')).toBe('10');
    expect((await post({ 'x-rumkit-key': 'wrong', 'x-test-client-ip': '198.51.100.9' })).status).toBe(429);
    expect(asked).toEqual(['2001:db8:1:2::/64', '198.51.100.9']);
  });
});

describe('CORS', () => {
  it('answers the preflight for allowed origins with the agreed headers', async () => {
    const { app } = setup();
    const res = await app.request('/v1/traces', {
      method: 'OPTIONS',
      headers: { origin: SHOP_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    expect(res.headers.get('access-control-max-age')).toBe('7200');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'content-type,content-encoding,x-rumkit-key,x-rumkit-token,x-rumkit-sent-at',
    );
    expect(res.headers.get('access-control-expose-headers')).toBe('retry-after');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('echoes no origin it does not know', async () => {
    const res = await setup().app.request('/t', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('puts the CORS headers on an accepted batch, once each', async () => {
    const res = await setup().post({ 'x-rumkit-key': SHOP_KEY, origin: SHOP_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    expect(res.headers.get('access-control-expose-headers')).toBe('retry-after');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('access-control-max-age')).toBeNull();
  });

  it('puts CORS headers on errors too, so the agent can read them', async () => {
    const res = await setup({ limits: { maxBodyBytes: 10 } }).post({ 'x-rumkit-key': SHOP_KEY, origin: SHOP_ORIGIN });
    expect(res.status).toBe(413);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    expect(res.headers.get('vary')).toBe('Origin');
  });
});

describe('other routes', () => {
  it('shows what the scrubber would make of a payload without forwarding it', async () => {
    const { post, delivered } = setup();
    const res = await post({ 'x-rumkit-key': SHOP_KEY }, json, '/v1/scrub/dry-run');
    const body = (await res.json()) as { request: ExportTraceServiceRequest; redactions: Record<string, number> };
    expect(res.status).toBe(200);
    expect(delivered).toHaveLength(0);
    expect(body.redactions.sensitive_param).toBeGreaterThan(0);
    expect(JSON.stringify(body.request)).not.toEqual(JSON.stringify(typicalBatch()));
  });

  it('answers a dry run when the delivery is at capacity, since it forwards nothing', async () => {
    const { post } = setup({}, { capacity: 1 });
    expect((await post({ 'x-rumkit-key': SHOP_KEY })).status).toBe(200);
    expect((await post({ 'x-rumkit-key': SHOP_KEY })).status).toBe(503);
    expect((await post({ 'x-rumkit-key': SHOP_KEY }, json, '/v1/scrub/dry-run')).status).toBe(200);
  });

  it('shows hashed values without their digest in a dry run, so the public key cannot hash guesses', async () => {
    const { post, delivered } = setup({
      scrub: { methods: { email: 'hash' }, hashSecret: 'a-deployment-secret-of-some-length' },
    });
    const batch = typicalBatch();
    spansIn(batch)[0]?.attributes?.push({ key: 'note', value: { stringValue: 'write to jane@example.com' } });
    const body = JSON.stringify(batch);
    const note = (request: ExportTraceServiceRequest) =>
      spansIn(request)[0]?.attributes?.find((kv) => kv.key === 'note')?.value.stringValue;

    const dryRun = await post({ 'x-rumkit-key': SHOP_KEY }, body, '/v1/scrub/dry-run');
    expect(note(((await dryRun.json()) as { request: ExportTraceServiceRequest }).request)).toBe('write to [hash]');
    expect((await post({ 'x-rumkit-key': SHOP_KEY }, body)).status).toBe(200);
    expect(note(decodeTraceRequest(delivered[0]?.body as Uint8Array))).toMatch(/^write to \[hash:[0-9a-f]{16}\]$/);
  });

  it('takes at most 256 KiB of payload, decompressed, for a dry run, whose answer holds all of it', async () => {
    const { post } = setup();
    const batch = typicalBatch();
    const spans = batch.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    const some = spans.slice(0, 10);
    while (JSON.stringify(batch).length <= 262_144) spans.push(...some);
    const gzipped = gzipSync(JSON.stringify(batch));
    const headers = { 'x-rumkit-key': SHOP_KEY, 'content-encoding': 'gzip' };
    expect((await post(headers, gzipped, '/v1/scrub/dry-run')).status).toBe(413);
    expect((await post(headers, gzipped)).status).toBe(200);
  });

  it("reports health with the upstream's state as the runtime sees it", async () => {
    const { app } = setup({}, { upstreamHealth: async () => ({ reachable: false, circuit: 'open' }) });
    const res = await app.request('/health');
    // The worker itself is alive: 200, with the upstream's trouble in the body for whoever reads it.
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', upstream: { reachable: false, circuit: 'open' } });
  });

  it('probes the upstream for /health at most once per 5 s, however many ask', async () => {
    let clock = FIXTURE_NOW_MS;
    let probes = 0;
    const { app } = setup(
      {},
      {
        now: () => clock,
        upstreamHealth: async () => ({ reachable: ++probes > 0, circuit: 'closed' }),
      },
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => app.request('/health')));
    expect(answers.every((res) => res.status === 200)).toBe(true);
    expect(probes).toBe(1);
    clock += 4_999;
    await app.request('/health');
    expect(probes).toBe(1);
    clock += 1;
    await app.request('/health');
    expect(probes).toBe(2);
  });

  it('serves /metrics only with its bearer token when one is configured', async () => {
    const token = 'metrics-token-0123456789';
    const { app } = setup({ server: { metricsToken: token } });
    expect((await app.request('/metrics')).status).toBe(401);
    expect(
      (await app.request('/metrics', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status,
    ).toBe(401);
    const res = await app.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('rumkit_edge_requests_total');
  });

  it('publishes the edge and RUM metrics at /metrics', async () => {
    const { app, post } = setup();
    await post({ 'x-rumkit-key': SHOP_KEY });
    await post({ 'x-rumkit-key': 'wrong' });
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('rumkit_edge_requests_total{tenant="shop",outcome="accepted"} 1');
    expect(text).toContain('rumkit_edge_requests_total{tenant="unknown",outcome="unauthorized"} 1');
    expect(text).toContain('rumkit_edge_spans_total{tenant="shop",outcome="received"} 50');
    expect(text).toMatch(/rumkit_edge_redactions_total\{tenant="shop",rule="sensitive_param"\} \d+/);
    expect(text).toMatch(/rumkit_edge_spans_total\{tenant="shop",outcome="scrubbed"\} [1-9]\d*/);
    expect(text).toContain('rumkit_page_views_total{tenant="shop",service="shop-web",route="unknown"} 1');
    expect(text).toMatch(/rumkit_edge_request_duration_seconds_count\{tenant="shop"\} 1/);
  });
});

describe('logs', () => {
  it('are JSON lines with request id and tenant, and never contain the key, token or client address', async () => {
    const lines: string[] = [];
    const { runtime } = memoryRuntime();
    const app = createApp(
      testConfig({ log: { level: 'debug' } }),
      runtime,
      undefined,
      createLogger('debug', (l) => lines.push(l)),
    );
    const headers = {
      'content-type': 'application/json',
      'x-test-client-ip': '198.51.100.77',
      'x-request-id': 'req-1',
    };
    await app.request('/v1/traces', { method: 'POST', headers: { ...headers, 'x-rumkit-key': SHOP_KEY }, body: json });
    await app.request(`/v1/traces?key=${BLOG_KEY}x&token=tok_secret`, { method: 'POST', headers, body: json });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 'debug',
        msg: 'ingest',
        requestId: 'req-1',
        tenant: 'shop',
        key: 'shop-web', // the key's id, never the key
        status: 200,
        outcome: 'accepted',
      }),
      expect.objectContaining({
        level: 'info',
        msg: 'ingest',
        tenant: 'unknown',
        status: 401,
        outcome: 'unauthorized',
      }),
    ]);
    const all = lines.join('\n');
    for (const secret of [SHOP_KEY, BLOG_KEY, 'tok_secret', '198.51.100.77']) expect(all).not.toContain(secret);
  });

  it('answers 500 to a bug and logs it with the request id', async () => {
    const lines: string[] = [];
    const { runtime } = memoryRuntime({
      deliver: async () => {
        throw new Error('a bug');
      },
    });
    const app = createApp(
      testConfig(),
      runtime,
      undefined,
      createLogger('info', (l) => lines.push(l)),
    );
    const res = await app.request('/v1/traces', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-rumkit-key': SHOP_KEY, 'x-request-id': 'req-2' },
      body: json,
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal', message: 'internal error' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 'error', msg: 'unhandled', requestId: 'req-2', message: 'a bug' }),
    ]);
  });
});
