import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpTransport } from './httpTransport.ts';

/** A collector on loopback that answers as `handler` does. */
async function collector(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('the Node forward transport', () => {
  it("answers with the collector's status and Retry-After", async () => {
    const upstream = await collector((_, res) => res.writeHead(503, { 'retry-after': '7' }).end('busy'));
    const transport = createHttpTransport();
    cleanups.push(upstream.close, transport.close);
    await expect(transport(upstream.url, new Uint8Array(10), {}, 1_000)).resolves.toEqual({
      status: 503,
      retryAfter: '7',
    });
  });

  it('gives an attempt up at its deadline although the collector keeps sending a byte at a time', async () => {
    const timers: NodeJS.Timeout[] = [];
    const upstream = await collector((_, res) => {
      res.writeHead(200);
      // Never silent for long, never done: a socket timeout would not fire.
      timers.push(setInterval(() => res.write('.'), 50));
    });
    const transport = createHttpTransport();
    cleanups.push(() => timers.forEach(clearInterval), upstream.close, transport.close);
    const started = performance.now();
    await expect(transport(upstream.url, new Uint8Array(10), {}, 300)).rejects.toThrow(
      'no complete answer within 300 ms',
    );
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('gives an attempt up at its deadline when the collector never answers', async () => {
    const upstream = await collector(() => {});
    const transport = createHttpTransport();
    cleanups.push(upstream.close, transport.close);
    await expect(transport(upstream.url, new Uint8Array(10), {}, 200)).rejects.toThrow('within 200 ms');
  });
});
