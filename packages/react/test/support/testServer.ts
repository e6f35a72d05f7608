/**
 * One node:http server on 127.0.0.1 (a free port) for the browser tests: it serves one build of the test app
 * (`appRoot`, a folder of test/app/dist: `/hash.html` is the hash-router page, `/zone.html` the zone entry's, every other path falls back to
 * index.html as a single-page app host does), answers `GET /api/ping`, and is a small local receiver standing in for the rumkit edge: it keeps every
 * OTLP/JSON request the agent sends to `/edge/v1/traces` (fetch or beacon), and answers its `/edge/v1/config`.
 * Same origin as the page, so no CORS; below `/edge`, because the agent ignores every request to its endpoint
 * and the page's own `/api/ping` must be traced. `/api/ping` answers after PING_DELAY_MS, so a span that waits for it has a duration to show for it.
 *
 *     const server = await startTestServer(REACT_19.appDist);
 *     await page.goto(server.url);
 *     server.spans().find((s) => s.name === 'test.inner');
 */
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '@rumkit/otlp';

export const PING_DELAY_MS = 100;

export type Attributes = Record<string, unknown>;

/** A received span with its attributes as a plain object, and those of each event. */
export interface ReceivedSpan extends Omit<Span, 'attributes' | 'events'> {
  attributes: Attributes;
  events: { name: string; attributes: Attributes }[];
}

export interface TestServer {
  url: string;
  spans(): ReceivedSpan[];
  reset(): void;
  close(): Promise<void>;
}

export async function startTestServer(appRoot: string): Promise<TestServer> {
  const requests: ExportTraceServiceRequest[] = [];
  const server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && pathname === '/edge/v1/traces') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportTraceServiceRequest);
      return send(res, 200, 'application/json', '{"partialSuccess":{}}');
    }
    // What an edge without sampling tells the agent it asks at start.
    if (pathname === '/edge/v1/config') return send(res, 200, 'application/json', '{"sampleRate":1}');
    if (pathname === '/api/ping') {
      return setTimeout(() => send(res, 200, 'application/json', '{"pong":true}'), PING_DELAY_MS);
    }
    if (pathname.startsWith('/assets/')) {
      const file = path.join(appRoot, path.normalize(pathname));
      return readFile(file).then(
        (body) => send(res, 200, 'text/javascript', body),
        () => send(res, 404, 'text/plain', 'not found'),
      );
    }
    if (pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    const page = ['/hash.html', '/zone.html'].includes(pathname) ? pathname.slice(1) : 'index.html';
    send(res, 200, 'text/html', await readFile(path.join(appRoot, page)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () =>
      requests.flatMap((request) =>
        request.resourceSpans.flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) =>
            ss.spans.map((span) => ({
              ...span,
              attributes: plain(span.attributes),
              events: (span.events ?? []).map((event) => ({ name: event.name, attributes: plain(event.attributes) })),
            })),
          ),
        ),
      ),
    reset: () => {
      requests.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function plain(attributes: KeyValue[] | undefined): Attributes {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, scalar(value)]));
}

function scalar(value: AnyValue): unknown {
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
