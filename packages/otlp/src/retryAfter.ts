/**
 * `Retry-After`, as the edge and the collector send it (seconds) or a proxy or CDN may (an HTTP-date), read
 * the same way by the browser agent and the edge worker.
 *
 *     const waitMs = parseRetryAfter(response.headers.get('retry-after')) ?? 0;
 */

/** `Retry-After` in ms from now; undefined when absent or unreadable, 0 for a date already past. */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
