/**
 * The demo API: `POST /api/documents` takes an uploaded file and runs a simulated OCR job on it;
 * `GET /api/status` is a small public endpoint (the e2e also runs a second copy of this server as a
 * "third-party" origin that must never receive the page's trace context).
 *
 *     node --import ./demo/api/tracing.ts demo/api/server.ts
 *
 * Environment: PORT, HOST, DEMO_WEB_ORIGIN (the page origin allowed by CORS, comma-separated).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import { runOcr } from './ocr.ts';

const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Past this, an upload is cut off rather than read to its end. */
const MAX_DRAINED_BYTES = 8 * MAX_UPLOAD_BYTES;
const allowedOrigins = new Set((process.env.DEMO_WEB_ORIGIN ?? '').split(',').filter(Boolean));
/** Trace context headers seen on `/api/status`, so the e2e can prove a third party got none. */
const seenTraceparents: Array<string | null> = [];

export const server = createServer(async (req, res) => {
  const origin = req.headers.origin;
  if (origin && allowedOrigins.has(origin)) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'content-type, traceparent, tracestate',
      'access-control-max-age': '600',
    });
    return res.end();
  }
  // Node's parser lets through request targets that URL refuses (`http://[`): a 400, not a crash.
  const path = URL.parse(req.url ?? '/', 'http://localhost')?.pathname;
  if (path === undefined) return json(res, 400, { error: 'bad request target' });
  try {
    if (req.method === 'POST' && path === '/api/documents') return await uploadDocument(req, res);
    if (req.method === 'GET' && path === '/api/status') {
      seenTraceparents.push((req.headers.traceparent as string | undefined) ?? null);
      return json(res, 200, { status: 'ok' });
    }
    if (req.method === 'GET' && path === '/api/seen-traceparents') return json(res, 200, seenTraceparents);
    if (req.method === 'GET' && path === '/health') return json(res, 200, { status: 'ok' });
    json(res, 404, { error: 'not found' });
  } catch (error) {
    json(res, 500, { error: (error as Error).message });
  }
});

async function uploadDocument(req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  if (!body) return json(res, 413, { error: `uploads are limited to ${MAX_UPLOAD_BYTES} bytes` });
  const form = await new Request('http://localhost', {
    method: 'POST',
    headers: { 'content-type': req.headers['content-type'] ?? '' },
    body: new Uint8Array(body),
  })
    .formData()
    .catch(() => undefined);
  const file = form?.get('file');
  if (!(file instanceof File)) return json(res, 400, { error: "send the document as multipart field 'file'" });
  const result = await runOcr({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  json(res, 201, { id: randomUUID(), name: file.name, size: file.size, ...result, traceId });
}

/**
 * The body, or undefined past MAX_UPLOAD_BYTES. The rest of a larger one is read and dropped, up to a bound: a
 * browser reads the answer only once it has sent its body, and a server that stopped reading kept it pushing a
 * 20 MB upload against a full TCP window for 6–12 s before it showed the refusal.
 */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_UPLOAD_BYTES) chunks.push(chunk);
    else if (size > MAX_DRAINED_BYTES) break;
  }
  return size > MAX_UPLOAD_BYTES ? undefined : Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 3001);
  server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`demo api on http://127.0.0.1:${port}`));
}
