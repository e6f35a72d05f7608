/**
 * Forward: sends accepted batches to the configured collector over OTLP/HTTP, with retries, backoff and
 * a circuit breaker, the way the OpenTelemetry Collector's exporters retry.
 *
 *     const payload = encodeForUpstream(batch, tenant.id, 'protobuf');
 *     const breaker = breakers.of(payload.tenant);   // breakers = new TenantBreakers(config.upstream.circuitBreaker)
 *     const result = await forwardWithRetry(payload, { transport, breaker, sleep, now, random }, config.upstream);
 *
 * The destination is always `<upstream.url>/v1/traces` from the configuration, never anything taken from
 * the request. Each export carries the tenant as `X-Scope-OrgID` (Tempo's multi-tenancy header) and the
 * collector's bearer token. Only network errors, timeouts, 429, 502, 503 and 504 are retried, with
 * exponential backoff and full jitter, or after the upstream's `Retry-After` when it sends one; other
 * answers are final. Consecutive failures open the tenant's circuit breaker, which then fails its exports at
 * once until a single probe gets through. What happens to a batch that still could not be delivered is the caller's
 * choice: Node's queue keeps it (in memory or in the spool), Cloudflare's Queue retries the message.
 *
 * The transport is the runtime's: `node:http` with keep-alive on Node, `fetch` on Workers.
 */
import { type ExportTraceServiceRequest, encodeTraceRequest, parseRetryAfter } from '@rumkit/otlp';
import type { EdgeConfig } from '../config.ts';

export type UpstreamConfig = EdgeConfig['upstream'];

export interface UpstreamPayload {
  tenant: string;
  body: Uint8Array;
  contentType: 'application/x-protobuf' | 'application/json';
  spans: number;
}

export interface TransportResponse {
  status: number;
  retryAfter: string | undefined;
}

/** POSTs a body; rejects on network errors and on the timeout. */
export type Transport = (
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  timeoutMs: number,
) => Promise<TransportResponse>;

export type ExportResult =
  | { kind: 'delivered' }
  /** Not delivered yet; worth another try after `afterMs`. */
  | { kind: 'retry'; afterMs: number; reason: string }
  /** The upstream refused the batch for good (400, 401, 413, …). */
  | { kind: 'failed'; reason: string; status: number };

/**
 * Why accepted spans will not be delivered, as a label with few values: the upstream's final refusal by its
 * status (`refused_401`: a wrong token), the retries running out (`retries_exhausted`: a long outage), or the
 * worker stopping with them undelivered (`stopped`: Node without a spool).
 */
export type UndeliveredReason =
  | `refused_${NamedRefusal}`
  | 'refused_other'
  | 'retries_exhausted'
  | 'stopped'
  | 'spool_corrupt';

/** The final statuses that say what to fix (the data, the token, the size); the rest fold into `refused_other`. */
const NAMED_REFUSALS = [400, 401, 403, 404, 413] as const;
type NamedRefusal = (typeof NAMED_REFUSALS)[number];

export function refusedReason(status: number): UndeliveredReason {
  return NAMED_REFUSALS.includes(status as NamedRefusal) ? `refused_${status as NamedRefusal}` : 'refused_other';
}

export interface ForwardDeps {
  transport: Transport;
  breaker: CircuitBreaker;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  random: () => number;
  /** Called with the duration of each attempt, for rumkit_edge_forward_duration_seconds. */
  onAttempt?: (seconds: number) => void;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const utf8 = new TextEncoder();

export function encodeForUpstream(
  request: ExportTraceServiceRequest,
  tenant: string,
  protocol: UpstreamConfig['protocol'],
): UpstreamPayload {
  let spans = 0;
  for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) spans += ss.spans.length;
  return protocol === 'json'
    ? { tenant, spans, contentType: 'application/json', body: utf8.encode(JSON.stringify(request, nonFiniteAsString)) }
    : { tenant, spans, contentType: 'application/x-protobuf', body: encodeTraceRequest(request) };
}

/** NaN and ±Infinity as the protobuf JSON mapping writes them (`JSON.stringify` would write `null`). */
const nonFiniteAsString = (key: string, value: unknown) =>
  key === 'doubleValue' && typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;

/**
 * Payloads with one key can go out as one export: protobuf of one tenant. A JSON payload has none, since JSON
 * documents do not concatenate.
 */
export function mergeKey(payload: UpstreamPayload): string | undefined {
  return payload.contentType === 'application/x-protobuf' ? payload.tenant : undefined;
}

export interface ExportGroup<T> {
  items: T[];
  /** Closed because the next item of its key would have taken it past the byte limit. */
  full: boolean;
}

/**
 * The exports a list of queued items makes, in the order of each export's first item: the items whose payloads
 * share a `mergeKey`, in order, up to `maxBytes` an export (an item larger than that goes alone), and each item
 * without a key alone. Both runtimes' senders group with this: Node's queue and the Cloudflare Queue's consumer.
 */
export function exportGroups<T>(
  items: Iterable<T>,
  payloadOf: (item: T) => UpstreamPayload,
  maxBytes: number,
): ExportGroup<T>[] {
  const groups: ExportGroup<T>[] = [];
  const open = new Map<string, { group: ExportGroup<T>; bytes: number }>();
  for (const item of items) {
    const payload = payloadOf(item);
    const key = mergeKey(payload);
    const bytes = payload.body.byteLength;
    let current = key === undefined ? undefined : open.get(key);
    if (current && current.bytes + bytes > maxBytes) {
      current.group.full = true;
      current = undefined;
    }
    if (current) {
      current.group.items.push(item);
      current.bytes += bytes;
      continue;
    }
    const group = { items: [item], full: false };
    groups.push(group);
    if (key !== undefined) open.set(key, { group, bytes });
  }
  return groups;
}

/**
 * Sends payloads of one `exportGroups` group as one export and returns each payload's result. An upstream that
 * refuses a merged export may refuse it for one bad batch (or for the merged size): each is then sent again
 * alone, so that only its own refusal counts.
 */
export async function sendMerged(
  payloads: readonly UpstreamPayload[],
  send: (payload: UpstreamPayload) => Promise<ExportResult>,
): Promise<ExportResult[]> {
  const result = await send(mergePayloads(payloads));
  if (result.kind !== 'failed' || payloads.length === 1) return payloads.map(() => result);
  const results: ExportResult[] = [];
  for (const payload of payloads) results.push(await send(payload));
  return results;
}

/**
 * One export of several payloads with one `mergeKey`. Protobuf messages concatenated are their merge, with the
 * repeated `resource_spans` of each appended in order, so the bytes are joined without decoding anything.
 */
export function mergePayloads(payloads: readonly UpstreamPayload[]): UpstreamPayload {
  const first = payloads[0] as UpstreamPayload;
  if (payloads.length === 1) return first;
  let length = 0;
  let spans = 0;
  for (const payload of payloads) {
    length += payload.body.byteLength;
    spans += payload.spans;
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const payload of payloads) {
    body.set(payload.body, offset);
    offset += payload.body.byteLength;
  }
  return { tenant: first.tenant, contentType: first.contentType, spans, body };
}

export interface EncodedParts {
  payloads: UpstreamPayload[];
  /** Spans left out because each, alone, encodes larger than the limit. */
  oversized: number;
}

/**
 * Splits a batch into payloads of at most `maxBytes` each (Cloudflare Queue messages hold 128 KB), by
 * halving its span list until every part fits. A span too large on its own is left out and counted: the
 * Queue would refuse it every time, and the sender would retry it for ever.
 */
export function encodeInParts(
  request: ExportTraceServiceRequest,
  tenant: string,
  protocol: UpstreamConfig['protocol'],
  maxBytes: number,
): EncodedParts {
  const whole = encodeForUpstream(request, tenant, protocol);
  if (whole.body.byteLength <= maxBytes) return { payloads: [whole], oversized: 0 };
  if (whole.spans <= 1) return { payloads: [], oversized: whole.spans };
  const [first, second] = halve(request, Math.ceil(whole.spans / 2));
  const a = encodeInParts(first, tenant, protocol, maxBytes);
  const b = encodeInParts(second, tenant, protocol, maxBytes);
  return { payloads: [...a.payloads, ...b.payloads], oversized: a.oversized + b.oversized };
}

/** The first `count` spans and the rest, each with its resource and scope. */
function halve(
  request: ExportTraceServiceRequest,
  count: number,
): [ExportTraceServiceRequest, ExportTraceServiceRequest] {
  const first: ExportTraceServiceRequest = { resourceSpans: [] };
  const second: ExportTraceServiceRequest = { resourceSpans: [] };
  let taken = 0;
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      const head = ss.spans.slice(0, Math.max(0, count - taken));
      const tail = ss.spans.slice(head.length);
      taken += head.length;
      if (head.length) first.resourceSpans.push({ ...rs, scopeSpans: [{ ...ss, spans: head }] });
      if (tail.length) second.resourceSpans.push({ ...rs, scopeSpans: [{ ...ss, spans: tail }] });
    }
  }
  return [first, second];
}

export function upstreamHeaders(config: UpstreamConfig, payload: UpstreamPayload): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': payload.contentType };
  if (config.scopeOrgId) headers['x-scope-orgid'] = payload.tenant;
  if (config.bearerToken) headers.authorization = `Bearer ${config.bearerToken}`;
  return headers;
}

/** One export attempt, classified. */
export async function exportOnce(
  transport: Transport,
  config: UpstreamConfig,
  payload: UpstreamPayload,
  path = '/v1/traces',
): Promise<ExportResult> {
  let response: TransportResponse;
  try {
    response = await transport(
      `${config.url}${path}`,
      payload.body,
      upstreamHeaders(config, payload),
      config.timeoutMs,
    );
  } catch (error) {
    return { kind: 'retry', afterMs: 0, reason: `upstream unreachable: ${(error as Error).message}` };
  }
  if (response.status >= 200 && response.status < 300) return { kind: 'delivered' };
  const reason = `upstream answered ${response.status}`;
  if (RETRYABLE.has(response.status))
    return { kind: 'retry', afterMs: parseRetryAfter(response.retryAfter) ?? 0, reason };
  return { kind: 'failed', reason, status: response.status };
}

export async function forwardWithRetry(
  payload: UpstreamPayload,
  deps: ForwardDeps,
  config: UpstreamConfig,
): Promise<ExportResult> {
  let last: ExportResult = { kind: 'retry', afterMs: 0, reason: 'not attempted' };
  for (let attempt = 0; attempt < config.retry.maxAttempts; attempt++) {
    const waitMs = deps.breaker.msUntilAllowed(deps.now());
    if (waitMs > 0) return { kind: 'retry', afterMs: waitMs, reason: 'circuit open: the upstream is failing' };
    const started = deps.now();
    last = await exportOnce(deps.transport, config, payload);
    deps.onAttempt?.((deps.now() - started) / 1000);
    if (last.kind !== 'retry') {
      // A refusal is an answer: the upstream is up, so it counts as a success for the breaker.
      deps.breaker.onSuccess();
      return last;
    }
    deps.breaker.onFailure(deps.now());
    if (attempt + 1 < config.retry.maxAttempts) {
      // A Retry-After longer than the longest backoff is the caller's to wait out (the Node queue or the
      // Cloudflare Queue reschedules the batch): sleeping here would hold one of the queue's few send slots.
      if (last.afterMs > config.retry.maxBackoffMs) return last;
      await deps.sleep(backoffMs(attempt, last.afterMs, config.retry, deps.random));
    }
  }
  return last;
}

/** Exponential backoff with full jitter, or the upstream's Retry-After when it asked for longer. */
export function backoffMs(
  attempt: number,
  retryAfterMs: number,
  retry: UpstreamConfig['retry'],
  random: () => number,
): number {
  const ceiling = Math.min(retry.maxBackoffMs, retry.initialBackoffMs * 2 ** attempt);
  return Math.max(retryAfterMs, Math.round(random() * ceiling));
}

/** The Cloudflare Queue's first retry delay, doubled per attempt up to `QUEUE_MAX_DELAY_S`. */
const QUEUE_FIRST_DELAY_S = 5;
const QUEUE_MAX_DELAY_S = 600;
/** The longest delay a Cloudflare Queue message may be retried with. */
const QUEUE_DELAY_LIMIT_S = 12 * 3600;

/**
 * The Cloudflare Queue consumer's delay before a batch's next delivery, in seconds: 5 s doubled per attempt up
 * to 10 min, the upper half of it jittered, or the upstream's Retry-After when it asked for longer. The
 * in-request backoff (`backoffMs`, seconds at most) would spend a batch's retries in under a minute; over the
 * default 10 retries these delays add up to 20–40 minutes, so a collector outage that long loses nothing.
 */
export function queueRetryDelaySeconds(attempt: number, retryAfterMs: number, random: () => number): number {
  const ceiling = Math.min(QUEUE_MAX_DELAY_S, QUEUE_FIRST_DELAY_S * 2 ** attempt);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.min(QUEUE_DELAY_LIMIT_S, Math.ceil(Math.max(retryAfterMs / 1000, jittered)));
}

export type CircuitState = 'closed' | 'half_open' | 'open';

/** A state as the circuit gauge reports it, which also orders them from best to worst. */
export const CIRCUIT_STATE_VALUES = { closed: 0, half_open: 1, open: 2 } as const satisfies Record<
  CircuitState,
  number
>;

/**
 * A circuit breaker per tenant: an upstream that refuses one tenant (Tempo and hosted OTLP gateways answer 429
 * per `X-Scope-OrgID` past that tenant's limits) must not stop the others' exports. An upstream that is down
 * fails every tenant's exports, and opens each breaker within its own few attempts.
 */
export class TenantBreakers {
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #config: UpstreamConfig['circuitBreaker'];

  constructor(config: UpstreamConfig['circuitBreaker']) {
    this.#config = config;
  }

  of(tenant: string): CircuitBreaker {
    let breaker = this.#breakers.get(tenant);
    if (!breaker) {
      breaker = new CircuitBreaker(this.#config);
      this.#breakers.set(tenant, breaker);
    }
    return breaker;
  }

  /** The worst tenant's state, for `/health` and the circuit gauge: `open` while any tenant's exports stop. */
  state(nowMs: number): CircuitState {
    let worst: CircuitState = 'closed';
    for (const breaker of this.#breakers.values()) {
      const state = breaker.state(nowMs);
      if (CIRCUIT_STATE_VALUES[state] > CIRCUIT_STATE_VALUES[worst]) worst = state;
    }
    return worst;
  }
}

/**
 * Opens after `failureThreshold` consecutive failures; after `openSeconds` lets one probe through
 * (half-open); the probe's success closes it, its failure opens it again.
 */
export class CircuitBreaker {
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;
  readonly #threshold: number;
  readonly #openMs: number;

  constructor(config: UpstreamConfig['circuitBreaker']) {
    this.#threshold = config.failureThreshold;
    this.#openMs = config.openSeconds * 1000;
  }

  state(nowMs: number): CircuitState {
    if (this.#openedAt === undefined) return 'closed';
    return nowMs - this.#openedAt >= this.#openMs ? 'half_open' : 'open';
  }

  /** 0 when an attempt may go now (and, when half-open, claims the one probe); else ms to wait. */
  msUntilAllowed(nowMs: number): number {
    if (this.#openedAt === undefined) return 0;
    const remaining = this.#openedAt + this.#openMs - nowMs;
    if (remaining > 0) return remaining;
    if (this.#probing) return Math.max(100, this.#openMs / 10);
    this.#probing = true;
    return 0;
  }

  onSuccess(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#probing = false;
  }

  onFailure(nowMs: number): void {
    this.#failures++;
    this.#probing = false;
    if (this.#openedAt !== undefined || this.#failures >= this.#threshold) this.#openedAt = nowMs;
  }
}
