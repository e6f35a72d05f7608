/**
 * Trace-consistent probability sampling, as the OpenTelemetry specification defines it
 * ("TraceState: probability sampling", 56-bit threshold).
 *
 * The randomness of a trace is the low 56 bits of its trace id; a trace is kept when that value is at or
 * above the rejection threshold `T = (1 - rate) × 2^56`. Because every participant derives the decision
 * from the trace id alone, the browser agent, the edge worker and the backend keep or drop the same traces
 * without talking to each other. The threshold travels in `tracestate` as `ot=th:<hex>`.
 *
 * Both the randomness and the threshold are handled as 14-digit lowercase hex strings: equal-length hex
 * strings compare like the numbers they spell, which keeps BigInt off the agent's hot path.
 *
 *     const th = thresholdForRate(0.25);        // 'c0000000000000'
 *     isTraceSampled(traceId, th);              // same answer everywhere
 *     withThreshold(tracestate, th);            // 'ot=th:c'
 */

const HEX_DIGITS = 14;
const NEVER = 'never';
const HEX = /^[0-9a-f]+$/;

/** Threshold for a sampling rate in [0, 1]; `'never'` for 0, since no 56-bit threshold rejects everything. */
export function thresholdForRate(rate: number): string {
  if (!(rate > 0)) return NEVER;
  if (rate >= 1) return '0'.repeat(HEX_DIGITS);
  // rate × 2^56 only rescales the double, so it is exact; 1 − rate would round first. A rate too small to keep one
  // value in 2^56 keeps that one: 2^56 itself would spell a 15-digit threshold that compares below every other.
  const rejected = 2n ** 56n - BigInt(Math.max(1, Math.round(rate * 2 ** 56)));
  return rejected.toString(16).padStart(HEX_DIGITS, '0');
}

/** The sampling rate a threshold stands for (its inverse, up to rounding). */
export function rateForThreshold(threshold: string): number {
  if (threshold === NEVER) return 0;
  return 1 - Number.parseInt(threshold, 16) / 2 ** 56;
}

/**
 * The 56 bits of randomness of a trace: an explicit `ot=rv:` value when the tracestate carries one,
 * otherwise the low 56 bits of the 32-hex-digit trace id.
 */
export function traceRandomness(traceId: string, traceState?: string): string {
  const rv = otSubKey(traceState, 'rv');
  if (rv && rv.length === HEX_DIGITS && HEX.test(rv)) return rv;
  return traceId.slice(-HEX_DIGITS).toLowerCase();
}

export function isTraceSampled(traceId: string, threshold: string, traceState?: string): boolean {
  if (threshold === NEVER) return false;
  return traceRandomness(traceId, traceState) >= threshold;
}

/** The `th` value as written in tracestate: the threshold without its trailing zeros (`'0'` for 100 %). */
export function encodeThreshold(threshold: string): string {
  return threshold.replace(/0+$/, '') || '0';
}

/** Parses the `th` sub-key of the `ot` tracestate entry back to a 14-digit threshold, if present and valid. */
export function thresholdFromTraceState(traceState: string | undefined): string | undefined {
  const th = otSubKey(traceState, 'th');
  if (!th || th.length > HEX_DIGITS || !HEX.test(th)) return undefined;
  return th.padEnd(HEX_DIGITS, '0');
}

/**
 * Writes `th` into the `ot` entry of a W3C tracestate, keeping the entry's other sub-keys (such as `rv`)
 * and every other vendor's entry. The modified entry moves to the front, as W3C Trace Context requires, and
 * the right-most entries go when that would pass the specification's 32 entries or 512 characters.
 */
export function withThreshold(traceState: string | undefined, threshold: string): string {
  const members = (traceState ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const others = members.filter((m) => !m.startsWith('ot='));
  const subKeys = (otEntry(traceState) ?? '').split(';').filter((kv) => kv && !kv.startsWith('th:'));
  const ot = threshold === NEVER ? subKeys : [`th:${encodeThreshold(threshold)}`, ...subKeys];
  const kept = ot.length ? [`ot=${ot.join(';')}`, ...others] : others;
  // W3C Trace Context allows 32 members and 512 characters: the right-most members go first, as it says.
  while (kept.length > MAX_MEMBERS || (kept.length > 1 && kept.join(',').length > MAX_TRACE_STATE_LENGTH)) kept.pop();
  return kept.join(',');
}

const MAX_MEMBERS = 32;
const MAX_TRACE_STATE_LENGTH = 512;

function otEntry(traceState: string | undefined): string | undefined {
  return traceState
    ?.split(',')
    .map((m) => m.trim())
    .find((m) => m.startsWith('ot='))
    ?.slice(3);
}

function otSubKey(traceState: string | undefined, key: string): string | undefined {
  return otEntry(traceState)
    ?.split(';')
    .find((kv) => kv.startsWith(`${key}:`))
    ?.slice(key.length + 1);
}
