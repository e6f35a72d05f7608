/**
 * The local trace view: an HTTP server with the recent traces and service graph (`/`), each trace's page-view
 * waterfall (`/traces/<trace id>`) and the same as JSON (`/api/traces/<trace id>`, `/api/service-graph`). It
 * reads from the embedded local store, which takes OTLP/HTTP on `POST /v1/traces` (point the edge worker's
 * upstream and your backends' exporters at this server), or from Tempo when TEMPO_URL is set.
 *
 *     node --conditions=rumkit-source demo/traceView/server.ts                 # local store; PORT, HOST
 *     TEMPO_URL=http://127.0.0.1:3200 node --conditions=rumkit-source demo/traceView/server.ts
 *
 * TEMPO_TENANT is sent as X-Scope-OrgID when Tempo is multi-tenant.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { html } from './html.ts';
import { loadPageView } from './loadPageView.ts';
import { createLocalTraceStore, type LocalTraceStore } from './localTraceStore.ts';
import { receiveOtlpTraces } from './otlpReceiver.ts';
import { renderHomePage } from './renderHomePage.ts';
import { renderLayout } from './renderLayout.ts';
import { renderTracePage } from './renderTracePage.ts';
import { createTempoSource } from './tempoSource.ts';
import type { TraceSource } from './traceSource.ts';

/** The home page's and `/api/service-graph`'s window. */
const SERVICE_GRAPH_MINUTES = 15;
const TRACE_PAGE = /^\/traces\/([0-9a-f]{32})$/i;
const TRACE_JSON = /^\/api\/traces\/([0-9a-f]{32})$/i;

/** Serves the view over `source`; with a `store`, also takes OTLP into it. */
export function createTraceViewServer(source: TraceSource, store?: LocalTraceStore): Server {
  return createServer(async (req, res) => {
    // Node's parser lets through request targets that URL refuses (`http://[`): a 400, not a crash.
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (!url) return send(res, 400, 'text/plain', 'bad request target');
    if (isRebound(req)) return send(res, 403, 'text/plain', 'this view answers only to a loopback host name');
    try {
      if (req.method === 'POST' && url.pathname === '/v1/traces' && store)
        return await receiveOtlpTraces(req, res, store);
      if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
      if (url.pathname === '/health') {
        return send(res, 200, 'application/json', JSON.stringify({ status: 'ok', source: source.description }));
      }
      if (url.pathname === '/') {
        const [traces, edges] = await Promise.all([
          source.search({ ...recentWindow(), limit: 30 }),
          source.serviceGraph(recentWindow()),
        ]);
        const page = renderHomePage({
          traces,
          edges,
          sourceDescription: source.description,
          windowMinutes: SERVICE_GRAPH_MINUTES,
          // Each refresh of Tempo's page is two searches and a trace read per sampled trace: not every 5 s.
          refreshSeconds: store ? 5 : 30,
        });
        return send(res, 200, 'text/html; charset=utf-8', page);
      }
      if (url.pathname === '/api/service-graph') {
        return send(res, 200, 'application/json', JSON.stringify(await source.serviceGraph(recentWindow())));
      }
      const json = TRACE_JSON.exec(url.pathname)?.[1]?.toLowerCase();
      if (json) {
        const spans = await source.getTrace(json);
        return spans
          ? send(res, 200, 'application/json', JSON.stringify(spans))
          : send(res, 404, 'application/json', '{"error":"trace not found"}');
      }
      const traceId = TRACE_PAGE.exec(url.pathname)?.[1]?.toLowerCase();
      if (!traceId) return send(res, 404, 'text/plain', 'not found');
      const traces = await loadPageView(source, traceId);
      if (traces) {
        const page = renderTracePage({ traceId, traces, sourceDescription: source.description });
        return send(res, 200, 'text/html; charset=utf-8', page);
      }
      // A browser's spans arrive a second or more after the API's response that linked here: wait for them.
      const waiting = html`<h1>Trace <code>${traceId}</code></h1><p>Not here yet; this page reloads until it arrives.</p>`;
      send(
        res,
        404,
        'text/html; charset=utf-8',
        renderLayout({
          title: 'Waiting for a trace',
          sourceDescription: source.description,
          body: waiting,
          refreshSeconds: 2,
        }),
      );
    } catch (error) {
      send(res, 502, 'text/plain', `could not read traces from ${source.description}: ${(error as Error).message}`);
    }
  });
}

/**
 * Whether a request that came in over loopback names another host: a page of some site whose name it made resolve
 * to 127.0.0.1 (DNS rebinding), which would otherwise read the developer's traces as same-origin.
 */
function isRebound(req: IncomingMessage): boolean {
  const local = req.socket.localAddress ?? '';
  if (!(local.startsWith('127.') || local === '::1' || local.startsWith('::ffff:127.'))) return false;
  // The port, then a trailing dot (`localhost.` is the same name, fully qualified).
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return !(
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127(?:\.\d{1,3}){3}$/.test(host)
  );
}

function recentWindow() {
  const now = Date.now() / 1000;
  return { startSeconds: now - SERVICE_GRAPH_MINUTES * 60, endSeconds: now + 60 };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 3004);
  const tempoUrl = process.env.TEMPO_URL;
  const store = tempoUrl ? undefined : createLocalTraceStore();
  const source = tempoUrl
    ? createTempoSource({ url: tempoUrl, tenant: process.env.TEMPO_TENANT })
    : (store as LocalTraceStore);
  createTraceViewServer(source, store).listen(port, process.env.HOST ?? '127.0.0.1', () =>
    console.log(
      `trace view on http://127.0.0.1:${port}/, reading from ${source.description}${store ? ` (OTLP/HTTP: http://127.0.0.1:${port}/v1/traces)` : ''}`,
    ),
  );
}
