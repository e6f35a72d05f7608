/**
 * Decode: turns the request body into an OTLP request object, whatever the sender chose.
 *
 *     const body = await readBodyCapped(request.body, contentLength, limits.maxBodyBytes);
 *     const decoded = decodeBody(body, { contentType, contentEncoding }, limits, (bytes) => chargeSize(bytes));
 *
 * Bodies are OTLP/JSON (`application/json`), OTLP protobuf (`application/x-protobuf`) or OTLP/JSON sent
 * as `text/plain` by `sendBeacon`, each optionally gzip-compressed. Both sizes are capped while the bytes
 * arrive: the body is read chunk by chunk and abandoned as soon as it passes the limit, whatever
 * Content-Length said (chunked bodies have none), and gunzip stops producing output at its own limit, so a
 * gzip bomb costs no more memory than the limit. That limit also bounds the inflation ratio, so that a small
 * request cannot buy a large decoding.
 */

import { gunzipSync } from 'node:zlib';
import { decodeTraceRequest, ProtobufError } from '@rumkit/otlp';
import { type Rejection, reject } from './rejection.ts';

export type WireFormat = 'json' | 'protobuf';

export interface DecodeLimits {
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxCompressionRatio: number;
  maxDepth: number;
  maxSpansPerBatch: number;
}

export interface DecodedBody {
  /** Still unchecked: the validate stage makes it an OTLP request. */
  request: unknown;
  format: WireFormat;
}

/**
 * Reads a body up to `maxBytes`, abandoning it as soon as it is larger. The body is any async iterable of
 * chunks: a web ReadableStream, or on Node the request stream itself (which spares building a web Request).
 */
export async function readBodyCapped(
  body: AsyncIterable<Uint8Array> | null,
  contentLength: string | undefined,
  maxBytes: number,
): Promise<Uint8Array | Rejection> {
  // A declared length over the limit is refused before reading; a smaller one is not trusted.
  if (contentLength !== undefined && Number(contentLength) > maxBytes) return tooLarge(maxBytes);
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    // Leaving the loop early ends the iteration, which cancels a web stream.
    for await (const chunk of body) {
      total += chunk.byteLength;
      if (total > maxBytes) return tooLarge(maxBytes);
      chunks.push(chunk);
    }
  } catch {
    return reject('invalid', 'the body could not be read to its end (the client went away?)');
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * `charge` is told the body's inflated size before it is parsed, and may refuse it: the rate limits charge a
 * large body there, so that one that turns out malformed has paid for its parsing as well (a protobuf body of
 * 4 MiB holding half a million empty attributes takes some 200 ms to read before a bad byte at its end).
 */
export function decodeBody(
  bytes: Uint8Array,
  headers: { contentType: string | undefined; contentEncoding: string | undefined },
  limits: DecodeLimits,
  charge?: (inflatedBytes: number) => Rejection | undefined,
): DecodedBody | Rejection {
  const format = wireFormat(headers.contentType);
  if (!format) {
    return reject(
      'unsupported_media_type',
      `content-type ${headers.contentType ?? '(none)'} is not one of application/json, application/x-protobuf, text/plain`,
    );
  }
  const encoding = headers.contentEncoding?.trim().toLowerCase() || 'identity';
  let plain = bytes;
  if (encoding === 'gzip') {
    const inflated = gunzipCapped(bytes, limits);
    if (inflated instanceof Uint8Array) plain = inflated;
    else return inflated;
  } else if (encoding !== 'identity') {
    return reject('unsupported_media_type', `content-encoding ${encoding} is not supported; use gzip or none`);
  } else if (bytes.byteLength > limits.maxDecompressedBytes) {
    return tooLarge(limits.maxDecompressedBytes);
  }
  const refusal = charge?.(plain.byteLength);
  if (refusal) return refusal;
  if (format === 'protobuf') {
    try {
      return {
        request: decodeTraceRequest(plain, { maxDepth: limits.maxDepth, maxSpans: limits.maxSpansPerBatch }),
        format,
      };
    } catch (error) {
      if (error instanceof ProtobufError) return reject('invalid', `the protobuf body is malformed: ${error.message}`);
      throw error;
    }
  }
  try {
    // V8's JSON.parse does not recurse on the native stack, so deep nesting cannot overflow it; depth is
    // bounded later by the validate stage.
    return { request: JSON.parse(utf8.decode(plain)), format };
  } catch {
    return reject('invalid', 'the body is not valid OTLP/JSON (JSON.parse failed)');
  }
}

const utf8 = new TextDecoder();

function wireFormat(contentType: string | undefined): WireFormat | undefined {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType === 'text/plain') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  return undefined;
}

/**
 * Output chunk for gunzip: room for 16× the compressed size (OTLP/JSON compresses about 9×), so a typical
 * body inflates into one chunk instead of being assembled from 16 KiB ones (a third of gunzip's time for the
 * typical batch); bounded so that a small bomb cannot make it allocate much.
 */
const chunkFor = (compressed: number) => Math.min(256 * 1024, Math.max(16 * 1024, compressed * 16));

/** Below this, any body may inflate as far as `maxDecompressedBytes`; a small batch compresses less anyway. */
const RATIO_FREE_BYTES = 256 * 1024;

/** Inflates within the size limit and, past `RATIO_FREE_BYTES`, within the ratio limit. */
function gunzipCapped(bytes: Uint8Array, limits: DecodeLimits): Uint8Array | Rejection {
  const byRatio = Math.max(RATIO_FREE_BYTES, bytes.byteLength * limits.maxCompressionRatio);
  const maxBytes = Math.min(limits.maxDecompressedBytes, byRatio);
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes, chunkSize: chunkFor(bytes.byteLength) });
  } catch (error) {
    // Node says ERR_BUFFER_TOO_LARGE, workerd "Memory limit exceeded"; both mean the output hit the cap.
    const { code, message } = error as { code?: string; message?: string };
    if (code !== 'ERR_BUFFER_TOO_LARGE' && !/limit exceeded|too large/i.test(message ?? '')) {
      return reject('invalid', 'the body is not valid gzip');
    }
    return maxBytes < limits.maxDecompressedBytes
      ? reject(
          'too_large',
          `the body inflates to more than ${limits.maxCompressionRatio}× its ${bytes.byteLength} bytes (limits.maxCompressionRatio)`,
        )
      : tooLarge(maxBytes);
  }
}

function tooLarge(maxBytes: number): Rejection {
  return reject('too_large', `the body is larger than ${maxBytes} bytes`);
}
