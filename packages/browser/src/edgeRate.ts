/**
 * The edge's sampling rate for this key (`GET /v1/config`), which caps the agent's own `sampleRate`. The edge
 * keeps the browser's decisions only up to the tenant's rate, so a browser sampling above it would keep traces
 * whose browser spans the edge then drops, while the backend, which followed the browser's decision through
 * `traceparent`, keeps its side of them. The last answer is kept in
 * storage, for this edge and key (another app of the origin may have others), so a page's first spans, started
 * before the answer arrives, already use it (`startingRate`). The
 * request is the returned function's, which the agent calls after the page's `load`: a fetch call costs start-up
 * several milliseconds, and the stored rate serves until then.
 *
 *     const sampler = consistentSampler(() => startingRate(settings, storage));
 *     const askEdge = followEdgeRate(settings, storage, sampler.setRate);
 *     afterLoad(askEdge);
 */
import { credentialsQuery, type Settings } from './config.ts';
import type { SafeStorage } from './lib/storage.ts';

export const EDGE_RATE_KEY = 'rumkit.rate';

/** The key of the rate kept for this edge and key (`storageScope`). */
const rateKey = (settings: Settings) => `${EDGE_RATE_KEY}.${settings.scope}`;

/** The rate a page starts at: its own, capped by the edge's last answer kept in storage. */
export function startingRate(settings: Settings, storage: SafeStorage): number {
  return capped(settings, Number(storage.get(rateKey(settings)) || Number.NaN)) ?? settings.sampleRate;
}

export function followEdgeRate(settings: Settings, storage: SafeStorage, setRate: (rate: number) => void): () => void {
  return () =>
    fetch(`${settings.rateUrl}?${credentialsQuery(settings)}`)
      .then((response) => response.json())
      .then(({ sampleRate }: { sampleRate?: unknown }) => {
        if (typeof sampleRate !== 'number') return;
        const rate = capped(settings, sampleRate);
        if (rate !== undefined) setRate(rate);
        storage.set(rateKey(settings), String(sampleRate));
      })
      // No usable answer (an older edge, offline): the configured or stored rate stays, and so does what is stored.
      .catch(() => {});
}

/** Whatever is not a number from 0 to 1 (NaN included) is ignored. */
function capped(settings: Settings, edgeRate: number) {
  return edgeRate >= 0 && edgeRate <= 1 ? Math.min(settings.sampleRate, edgeRate) : undefined;
}
