/**
 * Whether nothing listens on a loopback port: checked before a launch, since a readiness wait would take a
 * process left from an earlier run for the new one.
 *
 *     if (!(await isPortFree(14302))) throw new Error('port 14302 is in use');
 */
import { createServer } from 'node:net';

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}
