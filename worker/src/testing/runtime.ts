/** An in-memory runtime for app tests: accepted payloads are collected instead of forwarded. */
import type { Runtime } from '../app.ts';
import type { UpstreamPayload } from '../pipeline/forward.ts';
import { reject } from '../pipeline/rejection.ts';
import { FIXTURE_NOW_MS } from './config.ts';

export function memoryRuntime(overrides: Partial<Runtime> & { capacity?: number } = {}) {
  const delivered: UpstreamPayload[] = [];
  const capacity = overrides.capacity ?? Number.POSITIVE_INFINITY;
  const runtime: Runtime = {
    async deliver(payloads) {
      if (delivered.length + payloads.length > capacity) return reject('queue_overflow', 'queue full', 5);
      delivered.push(...payloads);
      return undefined;
    },
    hasCapacity: () => delivered.length < capacity,
    maxPayloadBytes: Number.POSITIVE_INFINITY,
    client: (c) => ({ ip: c.req.header('x-test-client-ip'), geo: undefined }),
    upstreamHealth: async () => ({ reachable: true, circuit: 'closed' }),
    metricsRoute: true,
    now: () => FIXTURE_NOW_MS,
    ...overrides,
  };
  return { runtime, delivered };
}
