/**
 * Refuses to start on loopback ports something already listens on: a readiness wait would take a process left
 * from an earlier run for the new one.
 *
 *     await assertPortsFree({ worker: 14302, view: 14304 });   // throws naming the first one in use
 *
 * A port in use is asked again for up to `RELEASE_WAIT_MS`: a process that an earlier run left, stopped just
 * before, counts as gone from /proc a moment before the kernel releases its sockets.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const RELEASE_WAIT_MS = 2_000;

export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (!(await freeWithin(port, RELEASE_WAIT_MS))) {
      throw new Error(
        `port ${port} (${name}) on 127.0.0.1 is in use, maybe by what an earlier run left; stop it or choose another RUMKIT_PORT_BASE`,
      );
    }
  }
}

async function freeWithin(port: number, waitMs: number): Promise<boolean> {
  const until = Date.now() + waitMs;
  while (!(await isPortFree(port))) {
    if (Date.now() >= until) return false;
    await sleep(100);
  }
  return true;
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}
