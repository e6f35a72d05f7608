/**
 * What a stage returns instead of a batch when the request must be refused: the HTTP status, the error
 * code of the ingest protocol, a message naming the problem, and the outcome counted in the metrics.
 *
 *     if (isRejection(result)) return respondWithError(c, result);
 */
export type RequestOutcome =
  | 'accepted'
  | 'invalid'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'origin_denied'
  | 'rate_limited'
  | 'forward_failed'
  | 'queue_overflow';

export interface Rejection {
  readonly rejected: true;
  status: 400 | 401 | 403 | 413 | 415 | 429 | 503;
  outcome: Exclude<RequestOutcome, 'accepted'>;
  message: string;
  /** Seconds, for 429 and 503. */
  retryAfter?: number;
  /** The tenant, once a valid key named it: refusals after that point are counted against it. */
  tenant?: string;
}

const CODES: Record<Rejection['outcome'], Rejection['status']> = {
  invalid: 400,
  unauthorized: 401,
  origin_denied: 403,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  forward_failed: 503,
  queue_overflow: 503,
};

export function reject(outcome: Rejection['outcome'], message: string, retryAfter?: number): Rejection {
  return { rejected: true, status: CODES[outcome], outcome, message, ...(retryAfter ? { retryAfter } : {}) };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as Rejection).rejected === true;
}
