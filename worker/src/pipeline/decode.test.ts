import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureBytes, typicalBatch } from '../testing/config.ts';
import { decodeBody, readBodyCapped } from './decode.ts';
import { isRejection } from './rejection.ts';

const limits = {
  maxBodyBytes: 64 * 1024,
  maxDecompressedBytes: 1024 * 1024,
  maxCompressionRatio: 64,
  maxDepth: 8,
  maxSpansPerBatch: 1000,
};
const decode = (bytes: Uint8Array, contentType?: string, contentEncoding?: string, given = limits) =>
  decodeBody(bytes, { contentType, contentEncoding }, given);

/** A stream that delivers `chunks` one at a time and records how many were pulled. */
function chunked(chunks: Uint8Array[]): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let i = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = chunks[i++];
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  ); // pull only when read, so `pulled` counts what the reader asked for
  return { stream, pulled: () => i };
}

describe('readBodyCapped', () => {
  it('joins a chunked body under the limit', async () => {
    const { stream } = chunked([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect(await readBodyCapped(stream, undefined, 10)).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('stops reading a chunked body as soon as it passes the limit, whatever its length', async () => {
    const { stream, pulled } = chunked(Array.from({ length: 1000 }, () => new Uint8Array(1024)));
    expect(await readBodyCapped(stream, undefined, 4096)).toMatchObject({ status: 413, outcome: 'too_large' });
    expect(pulled()).toBeLessThan(10);
  });

  it('does not trust a Content-Length that understates the body', async () => {
    const { stream } = chunked([new Uint8Array(3000), new Uint8Array(3000)]);
    expect(await readBodyCapped(stream, '10', 4096)).toMatchObject({ status: 413 });
  });

  it('answers 400 when the body breaks off', async () => {
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Uint8Array.of(1));
        controller.error(new Error('reset'));
      },
    });
    expect(await readBodyCapped(broken, undefined, 10)).toMatchObject({ status: 400, outcome: 'invalid' });
  });

  it('refuses a declared length over the limit without reading', async () => {
    const { stream, pulled } = chunked([new Uint8Array(10)]);
    expect(await readBodyCapped(stream, '5000', 4096)).toMatchObject({ status: 413 });
    expect(pulled()).toBe(0);
  });
});

describe('decodeBody', () => {
  it('reads OTLP/JSON, text/plain beacons, protobuf and gzip of each the same', () => {
    const expected = typicalBatch();
    const json = fixtureBytes('typical.json');
    for (const [bytes, type, encoding] of [
      [json, 'application/json', undefined],
      [json, 'text/plain;charset=UTF-8', undefined],
      [fixtureBytes('typical.json.gz'), 'application/json', 'gzip'],
    ] as const) {
      expect(decode(bytes, type, encoding)).toEqual({ request: expected, format: 'json' });
    }
    const pb = decode(fixtureBytes('typical.pb'), 'application/x-protobuf');
    const pbGzip = decode(new Uint8Array(gzipSync(fixtureBytes('typical.pb'))), 'application/x-protobuf', 'gzip');
    expect(pb).toMatchObject({ format: 'protobuf' });
    expect(pbGzip).toEqual(pb);
  });

  it('tells the charge the inflated size before parsing, and returns its refusal unparsed', () => {
    const json = fixtureBytes('typical.json');
    const charged: number[] = [];
    const charge = (bytes: number) => {
      charged.push(bytes);
      return undefined;
    };
    const headers = { contentType: 'application/json', contentEncoding: 'gzip' };
    expect(decodeBody(fixtureBytes('typical.json.gz'), headers, limits, charge)).toMatchObject({ format: 'json' });
    expect(charged).toEqual([json.byteLength]);
    // A malformed body pays before its parse fails; a refused one is not parsed at all.
    const broken = new TextEncoder().encode('{"resourceSpans":');
    expect(
      decodeBody(broken, { contentType: 'application/json', contentEncoding: undefined }, limits, charge),
    ).toMatchObject({ status: 400 });
    expect(charged).toEqual([json.byteLength, broken.byteLength]);
    const refusal = { rejected: true, status: 429, outcome: 'rate_limited', message: 'too many bytes' } as const;
    expect(decodeBody(broken, { contentType: 'text/plain', contentEncoding: undefined }, limits, () => refusal)).toBe(
      refusal,
    );
  });

  it('answers 415 naming the content type or encoding it does not take', () => {
    expect(decode(Uint8Array.of(), 'application/xml')).toMatchObject({
      status: 415,
      message: expect.stringContaining('content-type application/xml'),
    });
    expect(decode(Uint8Array.of(), 'application/json', 'br')).toMatchObject({
      status: 415,
      message: expect.stringContaining('content-encoding br'),
    });
  });

  it('stops a gzip bomb at the decompressed limit with 413', () => {
    const bomb = new Uint8Array(gzipSync(new Uint8Array(50 * 1024 * 1024))); // 50 MiB of zeros, ~50 KiB gzip
    expect(bomb.byteLength).toBeLessThan(limits.maxBodyBytes);
    expect(decode(bomb, 'application/json', 'gzip')).toMatchObject({ status: 413, outcome: 'too_large' });
  });

  it('refuses a small body that inflates past 256 KiB and maxCompressionRatio times its size', () => {
    // 600 KB of spaces around an empty batch: valid OTLP/JSON, 4 KB or less compressed.
    const padded = new TextEncoder().encode(`{"resourceSpans":[]${' '.repeat(600_000)}}`);
    const small = new Uint8Array(gzipSync(padded));
    expect(small.byteLength).toBeLessThan(4096);
    expect(decode(small, 'application/json', 'gzip')).toMatchObject({
      status: 413,
      message: expect.stringContaining('limits.maxCompressionRatio'),
    });
    // Up to 256 KiB, any ratio passes; past it, a ratio under the limit does.
    const free = new TextEncoder().encode(`{"resourceSpans":[]${' '.repeat(200_000)}}`);
    expect(decode(new Uint8Array(gzipSync(free)), 'application/json', 'gzip')).toEqual({
      request: { resourceSpans: [] },
      format: 'json',
    });
    expect(
      decode(new Uint8Array(gzipSync(padded)), 'application/json', 'gzip', { ...limits, maxCompressionRatio: 1000 }),
    ).toMatchObject({ format: 'json' });
  });

  it('answers 400 to broken JSON, gzip and protobuf', () => {
    expect(decode(new TextEncoder().encode('{"resourceSpans":'), 'application/json')).toMatchObject({ status: 400 });
    expect(decode(Uint8Array.of(1, 2, 3), 'application/json', 'gzip')).toMatchObject({
      status: 400,
      message: 'the body is not valid gzip',
    });
    expect(decode(Uint8Array.of(0x0a, 0xff), 'application/x-protobuf')).toMatchObject({ status: 400 });
  });

  it('never throws, whatever the bytes and headers (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.constantFrom('application/json', 'application/x-protobuf', 'text/plain', 'image/png', undefined),
        fc.constantFrom('gzip', 'identity', 'deflate', undefined),
        (bytes, type, encoding) => {
          const result = decode(bytes, type, encoding);
          expect(isRejection(result) || 'request' in result).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on gzip of arbitrary protobuf-like bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        decode(new Uint8Array(gzipSync(bytes)), 'application/x-protobuf', 'gzip');
      }),
      { numRuns: 500 },
    );
  });
});
