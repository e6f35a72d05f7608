/**
 * Refuses to start on loopback ports something already listens on: a readiness wait would take a process left
 * from an earlier run for the new one.
 *
 *     await assertPortsFree({ worker: 14302, view: 14304 });   // throws naming the first one in use
 */
import { createServer } from 'node:net';

export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new Error(
        `port ${port} (${name}) on 127.0.0.1 is in use, maybe by what an earlier run left; stop it or choose another RUMKIT_PORT_BASE`,
      );
    }
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}
