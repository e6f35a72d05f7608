/**
 * Finds the ingest key a request carries (header, or `?key=` for `sendBeacon`, which cannot set headers)
 * and checks that the page's origin may use it.
 */
import type { EdgeConfig } from '../config.ts';

export const KEY_HEADER = 'x-rumkit-key';

export type AuthResult =
  | { ok: true; key: EdgeConfig['keys'][number] }
  | { ok: false; status: 401 | 403; reason: 'unauthorized' | 'origin_denied' };

export function authenticate(
  keys: EdgeConfig['keys'],
  presented: string | undefined,
  origin: string | undefined,
): AuthResult {
  const key = presented === undefined ? undefined : keys.find((k) => constantTimeEqual(k.key, presented));
  if (!key) return { ok: false, status: 401, reason: 'unauthorized' };
  if (origin !== undefined && !key.origins.includes(origin)) return { ok: false, status: 403, reason: 'origin_denied' };
  return { ok: true, key };
}

/** Compares without an early exit, so response timing does not reveal how much of a guess was right. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    diff |= (a.charCodeAt(i % (a.length || 1)) || 0) ^ (b.charCodeAt(i % (b.length || 1)) || 0);
  }
  return diff === 0;
}
