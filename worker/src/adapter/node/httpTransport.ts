/**
 * The forward transport on Node: `node:http`/`node:https` with keep-alive agents. The ingest benchmark
 * measured `fetch` (undici and web streams) at several times the CPU of this for the same export.
 *
 *     const transport = createHttpTransport();
 *     await transport('http://collector:4318/v1/traces', body, headers, 10_000);
 */
import http from 'node:http';
import https from 'node:https';
import type { Transport } from '../../pipeline/forward.ts';

export function createHttpTransport(maxSockets = 32): Transport & { close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  // The upstream URLs are the configuration's two; parse each once.
  const targets = new Map<string, URL>();
  const transport = (url: string, body: Uint8Array, headers: Record<string, string>, timeoutMs: number) =>
    new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      let target = targets.get(url);
      if (!target) {
        target = new URL(url);
        targets.set(url, target);
      }
      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(
        target,
        {
          method: 'POST',
          agent: agents[target.protocol as keyof typeof agents],
          headers: { ...headers, 'content-length': String(body.byteLength) },
        },
        (response) => {
          // The body (partial success, error text) is not needed; draining it frees the socket for reuse.
          response.resume();
          response.on('end', () => {
            clearTimeout(deadline);
            resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] });
          });
          response.on('error', fail);
        },
      );
      // A deadline for the whole attempt, answer included, not `timeout` (which only measures silence): a collector
      // that answers a byte at a time would hold the export, and one of the queue's few senders, for ever.
      const fail = (error: Error) => {
        clearTimeout(deadline);
        reject(error);
      };
      const deadline = setTimeout(() => {
        const error = new Error(`no complete answer within ${timeoutMs} ms`);
        fail(error);
        request.destroy(error);
      }, timeoutMs);
      request.on('error', fail);
      request.end(body);
    });
  return Object.assign(transport, {
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  });
}
