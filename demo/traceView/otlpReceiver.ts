/**
 * OTLP/HTTP trace ingest for the local store: `POST /v1/traces` with an `application/x-protobuf` or
 * `application/json` body, optionally gzip, as the edge worker (protobuf by default, `upstream.protocol: json`)
 * and the OpenTelemetry SDK exporters send it. Answers like a collector: 200 with an empty
 * ExportTraceServiceResponse in the request's encoding, 400 for a body it cannot read, 415 for other types.
 *
 *     if (req.method === 'POST' && path === '/v1/traces') return receiveOtlpTraces(req, res, store);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import {
  DEFAULT_VALIDATION_LIMITS,
  decodeTraceRequest,
  type ExportTraceServiceRequest,
  encodeTraceResponse,
  validateTraceRequest,
} from '@rumkit/otlp';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Spans arrive from this machine's own processes; only the shape is checked, not their age or count. */
const LIMITS = { ...DEFAULT_VALIDATION_LIMITS, maxSpans: 100_000, maxAgeMs: Number.MAX_SAFE_INTEGER };

export async function receiveOtlpTraces(
  req: IncomingMessage,
  res: ServerResponse,
  store: { add(request: ExportTraceServiceRequest): number },
): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  const protobuf = type === 'application/x-protobuf';
  if (!protobuf && type !== 'application/json') {
    return answer(res, 415, 'application/json', `{"message":"send application/x-protobuf or application/json"}`);
  }
  let request: ExportTraceServiceRequest;
  try {
    let body = await readBody(req);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES });
    request = protobuf
      ? decodeTraceRequest(body)
      : validateTraceRequest(JSON.parse(body.toString('utf8')), LIMITS, Date.now()).request;
  } catch (error) {
    return answer(res, 400, 'application/json', JSON.stringify({ message: (error as Error).message }));
  }
  store.add(request);
  if (protobuf) answer(res, 200, 'application/x-protobuf', Buffer.from(encodeTraceResponse({})));
  else answer(res, 200, 'application/json', '{}');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`bodies are limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}
