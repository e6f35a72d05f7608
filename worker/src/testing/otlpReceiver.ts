/**
 * An OTLP/HTTP receiver for tests, standing in for the collector: it decodes what it gets (protobuf with
 * the codec tested against the official serializers, or JSON), records it with its headers, and can be
 * stopped and started again on the same port to play an outage. Below `/moved/` it answers with a redirect to the
 * same path without that prefix.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest, type ExportTraceServiceRequest, type Span } from '@rumkit/otlp';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  traces?: ExportTraceServiceRequest;
  metrics?: unknown;
}

export async function startReceiver(port = 0) {
  const received: Received[] = [];
  let server: http.Server | undefined;
  let boundPort = port;

  const listen = async () => {
    server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/received') {
        // For tests that run elsewhere (inside workerd) and can only ask over HTTP.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(received));
        return;
      }
      if (req.url?.startsWith('/moved/')) {
        // An upstream URL that redirects: the worker must not follow it.
        res.writeHead(307, { location: req.url.slice('/moved'.length) });
        res.end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const isProtobuf = req.headers['content-type'] === 'application/x-protobuf';
        const entry: Received = { path: req.url ?? '', headers: req.headers };
        if (req.url === '/v1/traces') {
          entry.traces = isProtobuf ? decodeTraceRequest(new Uint8Array(body)) : JSON.parse(body.toString());
        } else if (req.url === '/v1/metrics') {
          entry.metrics = JSON.parse(body.toString());
        }
        received.push(entry);
        res.writeHead(200, { 'content-type': isProtobuf ? 'application/x-protobuf' : 'application/json' });
        res.end(isProtobuf ? '' : '{}');
      });
    });
    server.listen(boundPort, '127.0.0.1');
    await once(server, 'listening');
    boundPort = (server.address() as AddressInfo).port;
  };

  await listen();
  return {
    received,
    get url() {
      return `http://127.0.0.1:${boundPort}`;
    },
    /** Every span that arrived on /v1/traces, in arrival order. */
    spans(): Span[] {
      return received.flatMap(
        (r) => r.traces?.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)) ?? [],
      );
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (!closing) return;
      closing.closeAllConnections();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
  };
}
