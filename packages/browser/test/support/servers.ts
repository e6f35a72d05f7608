/**
 * The servers the browser tests talk to, all node:http on 127.0.0.1, in the Playwright process:
 *
 * - `app` serves the test pages and the built agent (dist/), and a same-origin `/api/ping`;
 * - `edge` is a small test receiver standing in for the rumkit edge worker: it records every OTLP/JSON
 *   request it accepts (fetch or beacon, headers and query), and can be told to fail or to be slow;
 * - `api` is a cross-origin backend listed in `propagateTraceHeaderCorsUrls`; `thirdParty` is one that is
 *   not. Both record the headers they received.
 *
 *     const servers = await startServers();
 *     servers.app.pages.set('/p', esmPage(servers, { script: 'await fetch(API + "/ping")' }));
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '@rumkit/otlp';

/** Ports 16310–16319 of the range this package's tests use. */
export const PORTS = { app: 16310, edge: 16311, api: 16312, thirdParty: 16313 } as const;
export const ORIGINS = {
  app: `http://127.0.0.1:${PORTS.app}`,
  edge: `http://127.0.0.1:${PORTS.edge}`,
  api: `http://127.0.0.1:${PORTS.api}`,
  thirdParty: `http://127.0.0.1:${PORTS.thirdParty}`,
};

const packageRoot = path.resolve(fileURLToPath(import.meta.url), '../../..');

export interface EdgeRequest {
  via: 'fetch' | 'beacon';
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: ExportTraceServiceRequest;
  /** When the receiver got it, ms since the epoch. */
  at: number;
}

export type Attributes = Record<string, string | number | boolean | unknown[]>;

/** A received span with its attributes, resource and scope as plain objects. */
export interface ReceivedSpan extends Omit<Span, 'attributes'> {
  attributes: Attributes;
  resource: Attributes;
  scope: string;
  request: EdgeRequest;
}

export interface Servers {
  app: {
    pages: Map<string, string>;
    delays: Map<string, number>;
    /** `GET /api/stream`: server-sent events that never end; how many were opened, and closed by the client. */
    streams: { opened: number; closed: number };
    /** The headers of each `/api/ping` request (the page's own origin). */
    pings: Array<IncomingMessage['headers']>;
  };
  edge: {
    requests: EdgeRequest[];
    /** Answers the next `count` trace requests with `status` (and `Retry-After`), recording nothing. */
    fail(count: number, status: number, retryAfter?: string): void;
    /** Answers each request `ms` late (an accepted one is recorded at once). */
    answerDelayMs: number;
    refused: number;
    /** When (`Date.now()`) each refused trace request arrived. */
    refusedAt: number[];
    /** CORS preflights (`OPTIONS`) received. */
    preflights: number;
    /** What `GET /v1/config` answers as the key's sampling rate (default 1, as an edge without sampling). */
    sampleRate: number;
    /** When (`Date.now()`) each `GET /v1/config` arrived. */
    configAskedAt: number[];
    spans(): ReceivedSpan[];
  };
  api: { requests: Array<IncomingMessage['headers']> };
  thirdParty: { requests: Array<IncomingMessage['headers']> };
  reset(): void;
  close(): Promise<void>;
}

export async function startServers(): Promise<Servers> {
  const pages = new Map<string, string>();
  const delays = new Map<string, number>();
  const requests: EdgeRequest[] = [];
  const apiRequests: Array<IncomingMessage['headers']> = [];
  const thirdPartyRequests: Array<IncomingMessage['headers']> = [];
  const pings: Array<IncomingMessage['headers']> = [];
  const failures = { count: 0, status: 503, retryAfter: undefined as string | undefined, refused: 0 };
  const refusedAt: number[] = [];
  const answerDelay = { ms: 0 };
  const edgeState = { preflights: 0, sampleRate: 1, configAskedAt: [] as number[] };
  const streams = { opened: 0, closed: 0 };

  const app = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', ORIGINS.app);
    const delay = delays.get(url.pathname);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    const page = pages.get(url.pathname);
    if (page !== undefined) {
      const serverTiming = url.searchParams.get('server-timing');
      return send(res, 200, 'text/html', page, serverTiming ? { 'server-timing': serverTiming } : {});
    }
    if (url.pathname.startsWith('/dist/')) {
      const file = path.join(packageRoot, path.normalize(url.pathname));
      try {
        return send(res, 200, 'text/javascript', await readFile(file));
      } catch {
        return send(res, 404, 'text/plain', 'not found');
      }
    }
    if (url.pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    // An image large enough to be a page's largest contentful paint, with enough bytes per pixel: Chromium leaves
    // low-entropy images (a flat colour) out of LCP.
    if (url.pathname === '/hero.svg') {
      const dots = Array.from(
        { length: 60 },
        (_, i) =>
          `<circle cx="${(i * 37) % 400}" cy="${(i * 53) % 300}" r="${10 + (i % 7)}" fill="#${(i * 99991).toString(16).slice(-6).padStart(6, '0')}"/>`,
      );
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300">${dots.join('')}</svg>`;
      return send(res, 200, 'image/svg+xml', svg);
    }
    if (url.pathname === '/api/ping') {
      pings.push(req.headers);
      return send(res, 200, 'application/json', '{"pong":true}');
    }
    if (url.pathname === '/api/stream') {
      streams.opened++;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('data: first\n\n');
      // An event a second, until the client goes away; bounded, should it never.
      const ticker = setInterval(() => res.write('data: more\n\n'), 1_000);
      const gaveUp = setTimeout(() => res.end(), 60_000);
      res.on('close', () => {
        clearInterval(ticker);
        clearTimeout(gaveUp);
        streams.closed++;
      });
      return;
    }
    send(res, 404, 'text/plain', 'not found');
  });

  const edge = createServer(async (req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-expose-headers': 'retry-after',
    };
    if (req.method === 'OPTIONS') {
      edgeState.preflights++;
      return send(res, 204, 'text/plain', '', cors);
    }
    const url = new URL(req.url ?? '/', ORIGINS.edge);
    if (req.method === 'GET' && url.pathname === '/v1/config') {
      edgeState.configAskedAt.push(Date.now());
      return send(res, 200, 'application/json', JSON.stringify({ sampleRate: edgeState.sampleRate }), cors);
    }
    const text = await readBody(req);
    const answerLater = () => answerDelay.ms && new Promise((resolve) => setTimeout(resolve, answerDelay.ms));
    if (failures.count > 0) {
      failures.count--;
      failures.refused++;
      refusedAt.push(Date.now());
      const retryAfter: Record<string, string> = failures.retryAfter ? { 'retry-after': failures.retryAfter } : {};
      await answerLater();
      return send(res, failures.status, 'application/json', '{"error":"test failure"}', { ...cors, ...retryAfter });
    }
    requests.push({
      // Both send `text/plain`; a beacon with such a body is a no-cors request.
      via: req.headers['sec-fetch-mode'] === 'no-cors' ? 'beacon' : 'fetch',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: JSON.parse(text) as ExportTraceServiceRequest,
      at: Date.now(),
    });
    await answerLater();
    send(res, 200, 'application/json', '{"partialSuccess":{}}', cors);
  });

  const backend = (log: Array<IncomingMessage['headers']>) =>
    createServer(async (req, res) => {
      const cors = {
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'traceparent, tracestate, content-type, x-app',
        'access-control-allow-methods': 'GET, POST, PUT',
        'timing-allow-origin': '*',
      };
      if (req.method === 'OPTIONS') return send(res, 204, 'text/plain', '', cors);
      log.push(req.headers);
      // `/echo/…` answers what it got: method, path and body.
      if (req.url?.startsWith('/echo/')) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks).toString();
        return send(res, 200, 'text/plain', `${req.method} ${req.url.slice(5)} ${body}`, cors);
      }
      send(res, 200, 'application/json', '{"ok":true}', cors);
    });
  const api = backend(apiRequests);
  const thirdParty = backend(thirdPartyRequests);

  const servers: Array<[Server, number]> = [
    [app, PORTS.app],
    [edge, PORTS.edge],
    [api, PORTS.api],
    [thirdParty, PORTS.thirdParty],
  ];
  await Promise.all(
    servers.map(([server, port]) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))),
  );

  return {
    app: { pages, delays, streams, pings },
    edge: {
      requests,
      fail(count, status, retryAfter) {
        Object.assign(failures, { count, status, retryAfter });
      },
      get refused() {
        return failures.refused;
      },
      refusedAt,
      get preflights() {
        return edgeState.preflights;
      },
      get sampleRate() {
        return edgeState.sampleRate;
      },
      set sampleRate(rate) {
        edgeState.sampleRate = rate;
      },
      configAskedAt: edgeState.configAskedAt,
      get answerDelayMs() {
        return answerDelay.ms;
      },
      set answerDelayMs(ms) {
        answerDelay.ms = ms;
      },
      spans: () => requests.flatMap(spansOf),
    },
    api: { requests: apiRequests },
    thirdParty: { requests: thirdPartyRequests },
    reset() {
      pages.clear();
      delays.clear();
      for (const list of [requests, apiRequests, thirdPartyRequests, pings, edgeState.configAskedAt, refusedAt]) {
        list.length = 0;
      }
      Object.assign(failures, { count: 0, refused: 0 });
      Object.assign(edgeState, { preflights: 0, sampleRate: 1 });
      answerDelay.ms = 0;
      Object.assign(streams, { opened: 0, closed: 0 });
    },
    close: () =>
      Promise.all(servers.map(([server]) => new Promise<void>((resolve) => server.close(() => resolve())))).then(
        () => undefined,
      ),
  };
}

function spansOf(request: EdgeRequest): ReceivedSpan[] {
  return request.body.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((span) => ({
        ...span,
        attributes: plain(span.attributes),
        resource: plain(rs.resource?.attributes),
        scope: ss.scope?.name ?? '',
        request,
      })),
    ),
  );
}

export function plain(attributes: KeyValue[] | undefined): Attributes {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, anyValue(value)]));
}

function anyValue(value: AnyValue): string | number | boolean | unknown[] {
  if (value.arrayValue) return value.arrayValue.values.map(anyValue);
  return (value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue)) as
    | string
    | number
    | boolean;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
) {
  // Fetched afresh every time, yet not `no-store`, which keeps a page out of the back/forward cache.
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', ...headers });
  res.end(body);
}

/**
 * Polls until `check` returns (or resolves to) something truthy, at most `timeoutMs`; returns it or throws. An async
 * check is awaited: its promise, always truthy, would otherwise end the wait at once.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface PageOptions {
  /** Extra properties of the `init()` config, as JavaScript source (functions and RegExps allowed). */
  config?: string;
  /** Module code run after `init()`; `rum` is the agent, `API` and `THIRD_PARTY` the backends' origins. */
  script?: string;
  head?: string;
  /** Code run before the agent is imported. */
  before?: string;
  /** Which built entry to import (default `index`). */
  entry?: 'index' | 'zone';
}

/** A page that imports the built npm entry (dist/index.js) and starts the agent. */
export function esmPage(options: PageOptions = {}): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>rumkit test</title>${options.head ?? ''}</head>
<body><h1 id="title">rumkit test page</h1><p id="status">loading</p><button id="button">Click</button>
<script type="module">
${options.before ?? ''}
const { init } = await import('/dist/${options.entry ?? 'index'}.js');
const API = ${JSON.stringify(ORIGINS.api)};
const THIRD_PARTY = ${JSON.stringify(ORIGINS.thirdParty)};
const rum = init({ endpoint: ${JSON.stringify(ORIGINS.edge)}, apiKey: 'pk_test', serviceName: 'test-web',
  serviceVersion: '1.2.3', environment: 'test', propagateTraceHeaderCorsUrls: [API], ${options.config ?? ''} });
window.rum = rum;
${options.script ?? ''}
document.getElementById('status').textContent = 'ready';
</script></body></html>`;
}
