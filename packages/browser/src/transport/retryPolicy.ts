/**
 * What to do with the edge's answer: the contract retries 429, 502, 503, 504 and network errors with
 * exponential backoff and jitter, at least as long as `Retry-After` (seconds or a date) asks; every other status
 * is final.
 *
 *     if (classifyStatus(response.status) === 'retry') setTimeout(resend, retryDelayMs(attempt, retryAfter));
 */
import { parseRetryAfter } from '@rumkit/otlp';

export type Outcome = 'sent' | 'retry' | 'drop';

export const FIRST_DELAY_MS = 1_000;
/** Longer waits than this are left to the next page load (the batch is stored) rather than kept in memory. */
export const MAX_DELAY_MS = 30_000;
export const MAX_ATTEMPTS = 5;

/** `undefined` status: the request failed without a response (offline, DNS, CORS, aborted). */
export function classifyStatus(status: number | undefined): Outcome {
  if (status === undefined || status === 429 || status === 502 || status === 503 || status === 504) return 'retry';
  return status >= 200 && status < 300 ? 'sent' : 'drop';
}

/**
 * Delay before retry number `attempt` (1 for the first retry), or `undefined` when this page should stop
 * trying: too many attempts, or a `Retry-After` longer than `MAX_DELAY_MS`.
 */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | null | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (attempt > MAX_ATTEMPTS) return undefined;
  // "Equal jitter": half the backoff is fixed, half random, so clients that failed together spread out.
  const backoff = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS) * (0.5 + random() / 2);
  const asked = retryAfterMs(retryAfter);
  if (asked > MAX_DELAY_MS) return undefined;
  return Math.max(backoff, asked);
}

/** `Retry-After` in seconds, as the edge sends it, or as an HTTP-date (a proxy's); anything else asks for nothing. */
export const retryAfterMs = (header: string | null | undefined): number => parseRetryAfter(header) ?? 0;
