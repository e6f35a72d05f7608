/**
 * The trace view with its local store, in-process over HTTP: OTLP in as protobuf (how the edge worker sends) and
 * as JSON, traces, search, service graph and the page-view waterfall out.
 */
import type { AddressInfo } from 'node:net';
import { encodeTraceRequest } from '@rumkit/otlp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../rawRequest.ts';
import { createLocalTraceStore } from './localTraceStore.ts';
import { createTraceViewServer } from './server.ts';
import { apiRequest, PAGE_VIEW, TRACE, webRequest } from './testdata.ts';
import type { TraceSpan } from './traceSource.ts';

const store = createLocalTraceStore();
const server = createTraceViewServer(store, store);
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const protobuf = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: Buffer.from(encodeTraceRequest(webRequest)),
  });
  expect(protobuf.status).toBe(200);
  expect(protobuf.headers.get('content-type')).toBe('application/x-protobuf');
  const json = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(apiRequest),
  });
  expect(json.status).toBe(200);
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the local store', () => {
  it('joins the browser and the API spans of one trace, ids in hex', async () => {
    const spans = (await (await fetch(`${base}/api/traces/${TRACE.upload}`)).json()) as TraceSpan[];
    const fetchSpan = spans.find((s) => s.kind === 'client');
    const serverSpan = spans.find((s) => s.kind === 'server');
    expect(fetchSpan).toMatchObject({ serviceName: 'rumkit-demo-web', spanId: '2000000000000001' });
    expect(serverSpan).toMatchObject({ serviceName: 'rumkit-demo-api', parentSpanId: fetchSpan?.spanId });
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['ocr.job', 'ocr.extract_text']));
  });

  it('answers 404 for a trace it does not have, and refuses other content types', async () => {
    expect((await fetch(`${base}/api/traces/${'9'.repeat(32)}`)).status).toBe(404);
    const text = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(text.status).toBe(415);
    const broken = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff]),
    });
    expect(broken.status).toBe(400);
  });

  it('searches by service, name, kind and attribute (exact or ending), most recent first', async () => {
    const ids = async (query: Parameters<typeof store.search>[0]) => (await store.search(query)).map((h) => h.traceId);
    expect(await ids({ serviceName: 'rumkit-demo-web', name: 'documentLoad' })).toEqual([TRACE.documentLoad]);
    expect(await ids({ serviceName: 'rumkit-demo-api', kind: 'server' })).toEqual([TRACE.upload]);
    expect(await ids({ attributes: { 'url.full': { endsWith: '/api/status' } } })).toEqual([TRACE.thirdParty]);
    expect(await ids({ attributes: { 'rumkit.page_view.id': PAGE_VIEW } })).toEqual([
      TRACE.vital,
      TRACE.thirdParty,
      TRACE.upload,
      TRACE.documentLoad,
    ]);
    expect(await ids({ serviceName: 'rumkit-demo-web', kind: 'server' })).toEqual([]);
    expect(await ids({ startSeconds: 1_795_000_006, endSeconds: 1_795_000_008 })).toEqual([TRACE.thirdParty]);
  });

  it('counts the web → api edge from the fetch span and the server span under it, and no edge to a third party', async () => {
    const edges = await (await fetch(`${base}/api/service-graph`)).json();
    // The test data is from 2026-11; the view's window is the last minutes.
    expect(edges).toEqual([]);
    expect(await store.serviceGraph({})).toEqual([
      { client: 'rumkit-demo-web', server: 'rumkit-demo-api', requests: 1, failed: 0 },
    ]);
  });

  it('forgets the oldest traces beyond its bound', async () => {
    const small = createLocalTraceStore({ maxTraces: 2 });
    // Four traces, in this order: the first two go.
    small.add(webRequest);
    expect(small.traceCount).toBe(2);
    expect(await small.getTrace(TRACE.documentLoad)).toBeUndefined();
    expect(await small.getTrace(TRACE.upload)).toBeUndefined();
    expect(await small.getTrace(TRACE.vital)).toHaveLength(1);
    expect(await small.getTrace(TRACE.thirdParty)).not.toBeUndefined();
  });
});

describe('the trace page', () => {
  it('shows the page view: the trace, its document load and web vitals, and the edge', async () => {
    const response = await fetch(`${base}/traces/${TRACE.upload}`);
    expect(response.status).toBe(200);
    const page = await response.text();
    for (const name of [
      'documentLoad',
      'documentFetch',
      'POST',
      'POST /api/documents',
      'ocr.job',
      'ocr.extract_text',
      'web_vital.LCP',
    ]) {
      expect(page).toContain(`data-span-name="${name}"`);
    }
    expect(page).toMatch(/data-client="rumkit-demo-web" data-server="rumkit-demo-api"/);
    // Children come after their parents.
    expect(page.indexOf('data-span-name="ocr.job"')).toBeGreaterThan(
      page.indexOf('data-span-name="POST /api/documents"'),
    );
  });

  it('refreshes its home page every 5 s over the local store, every 30 s over another source (Tempo)', async () => {
    const refreshOf = (page: string) => /<meta http-equiv="refresh" content="(\d+)"/.exec(page)?.[1];
    expect(refreshOf(await (await fetch(`${base}/`)).text())).toBe('5');
    const remote = createTraceViewServer(store);
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    const page = await (await fetch(`http://127.0.0.1:${(remote.address() as AddressInfo).port}/`)).text();
    await new Promise<void>((resolve) => remote.close(() => resolve()));
    expect(refreshOf(page)).toBe('30');
  });

  it('escapes what spans carry', async () => {
    const hostile = createLocalTraceStore();
    const request = structuredClone(apiRequest);
    const first = request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (first) first.name = '<script>alert(1)</script>';
    hostile.add(request);
    const view = createTraceViewServer(hostile);
    await new Promise<void>((resolve) => view.listen(0, '127.0.0.1', resolve));
    const page = await (
      await fetch(`http://127.0.0.1:${(view.address() as AddressInfo).port}/traces/${TRACE.upload}`)
    ).text();
    await new Promise<void>((resolve) => view.close(() => resolve()));
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });
});

describe('the server', () => {
  const port = () => (server.address() as AddressInfo).port;

  it('answers a request target that URL refuses with 400, and goes on serving', async () => {
    expect(await rawRequest(port(), 'GET http://[ HTTP/1.1', `127.0.0.1:${port()}`)).toBe(400);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('answers only to a loopback host name over loopback (DNS rebinding)', async () => {
    for (const host of [
      `127.0.0.1:${port()}`,
      `localhost:${port()}`,
      'localhost.',
      'view.localhost',
      `[::1]:${port()}`,
    ]) {
      expect(await rawRequest(port(), 'GET /api/service-graph HTTP/1.1', host), host).toBe(200);
    }
    for (const host of [`attacker.example:${port()}`, 'localhost.attacker.example', '127.0.0.1.nip.io', '']) {
      expect(await rawRequest(port(), 'GET /api/service-graph HTTP/1.1', host), host).toBe(403);
    }
  });
});
