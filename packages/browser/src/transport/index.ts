/**
 * Delivers finished spans to the rumkit edge: batches by count, bytes and time (and stores the oldest for the next
 * page when more than 300 KB wait, the edge slow or holding the page off); sends each batch as a
 * `keepalive` fetch while fewer than 9 such requests and under 60 KB are in flight (later batches wait for
 * room, so every request outlives the page); retries with backoff; at `pagehide` or when the page is hidden,
 * sends what is left with `navigator.sendBeacon` in bodies that fit the keepalive quota the fetches leave, and
 * stores what cannot go for the next page load (or, if the page is hidden, for when it is left). Spans that end
 * later while the page stays hidden go at once, by fetch, and what the edge refuses then is stored.
 *
 *     const transport = createTransport(settings, () => resourceJson, storage, log);
 *     transport.add(item);        // from the span processor
 *     transport.sendStored();     // after `load`: what earlier pages could not send
 *     await transport.flush();    // everything queued or in flight so far has had an attempt
 */
import { credentialsQuery, type Settings } from '../config.ts';
import type { SafeStorage } from '../lib/storage.ts';
import { utf8Length } from '../lib/utf8Length.ts';
import { batchBody, cutBatches, type SpanItem } from './batch.ts';
import { createPersistentQueue } from './persistentQueue.ts';
import { classifyStatus, MAX_DELAY_MS, retryAfterMs, retryDelayMs } from './retryPolicy.ts';

/** Chromium and Firefox refuse keepalive requests once the bodies in flight exceed 64 KiB; Chromium counts beacons. */
export const KEEPALIVE_QUOTA = 65_536;
/** What the agent's keepalive fetches may hold of that quota. */
export const KEEPALIVE_BYTES = 60_000;
export const KEEPALIVE_REQUESTS = 8;
export const MAX_BATCH_BYTES = 30_000;
export const MAX_BATCH_SPANS = 100;
export const BATCH_DELAY_MS = 1_000;
/**
 * An export unanswered after this is given up (and retried), so that `flush()` resolves and `shutdown()` ends;
 * the SDK rejects a flush after 30 s.
 */
export const REQUEST_TIMEOUT_MS = 10_000;
/**
 * Where a tab claims what earlier pages stored, and how long it waits for the claims of other tabs. This key and the
 * next end in `.<settings.scope>`, as the stored queue's do: another app of the origin, with its own edge or key,
 * keeps its own.
 */
export const CLAIM_KEY = 'rumkit.claim';
export const CLAIM_WAIT_MS = 200;
/** Where the end of the edge's hold (`Retry-After`) is kept for the next pages of the origin. */
export const HOLD_KEY = 'rumkit.hold';
/**
 * Bodies waiting to be sent, at most: past it the oldest are stored for the next page. A slow edge, or a
 * `Retry-After` of minutes, otherwise let a long-lived single-page app hold every span it made meanwhile.
 */
export const MAX_OUTBOX_BYTES = 300_000;
/** Room in each body for the resource and the scope wrappers around the spans. */
const ENVELOPE_BYTES = 1_000;

export interface Transport {
  /** The page was hidden, or is being unloaded or frozen (`leaving`, at `pagehide`). */
  pageHidden(leaving: boolean): void;
  /** The page is visible again (from another tab or the back/forward cache). */
  pageShown(): void;
  add(item: SpanItem): void;
  /** Sends what earlier pages stored; the agent calls it after `load`, out of the way of the page's own requests. */
  sendStored(): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

interface Outgoing {
  body: string;
  bytes: number;
  /** Attempts made so far. */
  attempts: number;
  /** `flush()` calls waiting for this body's next attempt to end, or for it to leave (beaconed, stored). */
  waiters: Array<() => void>;
}

export function createTransport(
  settings: Settings,
  /** The resource as OTLP/JSON, asked for once, when the first span arrives. */
  resource: () => string,
  storage: SafeStorage,
  log: (message: string, detail?: unknown) => void,
): Transport {
  // Taken before the fetch instrumentation wraps `fetch`, so exports never pass through it.
  const send = fetch.bind(globalThis);
  const queue = createPersistentQueue(storage, settings.scope);
  const claimKey = `${CLAIM_KEY}.${settings.scope}`;
  const holdKey = `${HOLD_KEY}.${settings.scope}`;
  // Not while the page starts: the resource reads `navigator.userAgentData`, among the slowest calls of a script
  // tag's start-up task.
  let envelope: { resource: string; bytes: number } | undefined;
  const wrapping = () => {
    if (!envelope) {
      const json = resource();
      envelope = { resource: json, bytes: utf8Length(json) + ENVELOPE_BYTES };
    }
    return envelope;
  };
  let pending: SpanItem[] = [];
  let pendingBytes = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hidden = false;
  /** After `pagehide`: the page is being unloaded or frozen. */
  let left = false;
  let hiddenDrainScheduled = false;
  /** Whether the next drain beacons: the one as the page hides, and every one once it is left. */
  let beaconing = false;
  const outbox: Outgoing[] = [];
  /** Bodies waiting for a retry, with their timers. */
  const retrying = new Map<Outgoing, ReturnType<typeof setTimeout>>();
  const inFlight = new Set<Outgoing>();
  let inFlightBytes = 0;
  /**
   * Until when the edge asked (`Retry-After`) to hear nothing more from this page, or from an earlier one, which
   * stored it: at most MAX_DELAY_MS ahead, a stored time that a clock set back puts days ahead included; whether a
   * timer waits for it. Read from storage when first needed, not while the page starts.
   */
  let heldUntil: number | undefined;
  let holding = false;
  /** The timer of this page's claim on what earlier pages stored. */
  let claiming: ReturnType<typeof setTimeout> | undefined;

  const holdEnd = () => (heldUntil ??= Math.min(Number(storage.get(holdKey)) || 0, Date.now() + MAX_DELAY_MS));
  const isHeld = () => holdEnd() > Date.now();
  const outgoing = (body: string): Outgoing => ({ body, bytes: utf8Length(body), attempts: 0, waiters: [] });
  const release = (item: Outgoing) => {
    for (const resolve of item.waiters.splice(0)) resolve();
  };
  /**
   * Key and clock in the query and the body as `text/plain`, for fetch as for beacons: a CORS-safelisted request
   * needs no preflight.
   */
  const tracesUrl = () => `${settings.tracesUrl}?${credentialsQuery(settings)}&sent_at=${Date.now()}`;

  function sendPending() {
    cutPending();
    pump();
  }

  /** Queues the spans waiting as bodies of at most `maxBodyBytes`. */
  function cutPending(maxBodyBytes = MAX_BATCH_BYTES) {
    clearTimeout(timer);
    timer = undefined;
    const { resource: json, bytes } = wrapping();
    for (const batch of cutBatches(pending, { maxSpans: MAX_BATCH_SPANS, maxBytes: maxBodyBytes - bytes })) {
      outbox.push(outgoing(batchBody(json, batch)));
    }
    pending = [];
    pendingBytes = 0;
    let waiting = outbox.reduce((sum, item) => sum + item.bytes, 0);
    const overflow: Outgoing[] = [];
    while (waiting > MAX_OUTBOX_BYTES) {
      const oldest = outbox.shift() as Outgoing;
      waiting -= oldest.bytes;
      release(oldest);
      overflow.push(oldest);
    }
    if (overflow.length) store(overflow);
  }

  function pump() {
    const held = holdEnd() - Date.now();
    if (held > 0) {
      if (!holding) {
        holding = true;
        setTimeout(() => {
          holding = false;
          pump();
        }, held);
      }
      return;
    }
    while (
      !left &&
      outbox.length &&
      inFlight.size < KEEPALIVE_REQUESTS &&
      inFlightBytes + (outbox[0] as Outgoing).bytes <= KEEPALIVE_BYTES
    ) {
      post(outbox.shift() as Outgoing);
    }
  }

  function post(item: Outgoing) {
    inFlight.add(item);
    inFlightBytes += item.bytes;
    item.attempts++;
    // Browsers without AbortSignal.timeout (Safari before 16) wait as long as the request takes.
    send(tracesUrl(), {
      method: 'POST',
      body: item.body,
      keepalive: true,
      signal: AbortSignal.timeout?.(REQUEST_TIMEOUT_MS),
    })
      // Reading the answer completes the request: until then Chromium counts it against the keepalive quota.
      .then((response) =>
        response.text().then(() => settle(item, response.status, response.headers.get('retry-after'))),
      )
      .catch(() => settle(item, undefined, null))
      .finally(() => {
        inFlight.delete(item);
        inFlightBytes -= item.bytes;
        release(item);
        pump();
      });
  }

  function settle(item: Outgoing, status: number | undefined, retryAfter: string | null) {
    const outcome = classifyStatus(status);
    // Unloading rejects the promise of a keepalive request that still goes through: storing it then would
    // deliver it twice. An answer the edge gave is still an answer.
    if (outcome === 'sent' || (left && !status)) return;
    if (outcome === 'drop') return log(`HTTP ${status}: batch dropped`);
    // Retry-After speaks for the page, not for this batch alone: the others wait as long, at most MAX_DELAY_MS (a
    // batch refused with a longer one is left to a later page: retryDelayMs), and so do the next pages.
    const asked = Math.min(retryAfterMs(retryAfter), MAX_DELAY_MS);
    if (asked && Date.now() + asked > holdEnd()) {
      heldUntil = Date.now() + asked;
      storage.set(holdKey, String(heldUntil));
      // flush() waits for no attempt the hold puts off: what it holds stays queued for after it.
      outbox.forEach(release);
    }
    const delay = retryDelayMs(item.attempts, retryAfter);
    if (delay === undefined || hidden) {
      log('batch stored for the next page');
      store([item]);
      return;
    }
    log(`HTTP ${status ?? 'error'}: retry in ${Math.round(delay)} ms`);
    retrying.set(
      item,
      setTimeout(() => {
        retrying.delete(item);
        outbox.push(item);
        pump();
      }, delay),
    );
  }

  function store(items: Outgoing[]) {
    const kept = queue.save(items.map((i) => i.body));
    if (kept.length < items.length) log('storage full: batches lost');
  }

  /**
   * The page may never run again. As it hides or leaves: beacon what was never tried, store what the edge just
   * turned away. Later in a page that stays hidden, whose timers the browser slows: send at once by fetch, whose
   * answer says whether to store (a beacon's never does), or store while the edge's Retry-After holds.
   */
  function drainHidden() {
    hiddenDrainScheduled = false;
    if (!beaconing) {
      cutPending();
      // flush() adds no waiter while the page is hidden or held: there is none to release here.
      return isHeld() ? store(outbox.splice(0)) : pump();
    }
    beaconing = left;
    // Beacons share the keepalive quota with the fetches still in flight, and one larger than what they leave
    // is refused whole: the spans not yet sent are cut to fit it.
    cutPending(Math.min(MAX_BATCH_BYTES, KEEPALIVE_QUOTA - inFlightBytes));
    const unsent: Outgoing[] = [];
    for (const [item, retryTimer] of retrying) {
      clearTimeout(retryTimer);
      unsent.push(item);
    }
    retrying.clear();
    const url = tracesUrl();
    const held = isHeld();
    for (const item of outbox.splice(0)) {
      // Offline, a beacon is accepted and then lost, and so is one the edge asked to wait for; the quota refusal
      // is the other `false`.
      if (held || navigator.onLine === false || !beacon(url, item.body)) unsent.push(item);
      release(item);
    }
    store(unsent);
  }

  function drainSoon() {
    if (!hiddenDrainScheduled) queueMicrotask(drainHidden);
    hiddenDrainScheduled = true;
  }

  function beacon(url: string, body: string): boolean {
    try {
      return navigator.sendBeacon(url, body);
    } catch {
      return false;
    }
  }

  /** Stored bodies as requests. */
  function requestsOf(stored: string[]): Outgoing[] {
    // Bodies stored by another version of the agent may be larger than any keepalive request or beacon may be.
    return stored.map(outgoing).filter((item) => item.bytes <= KEEPALIVE_BYTES);
  }

  /**
   * Tabs of the origin that start together would each take the same stored bodies: Chromium keeps a copy of
   * `localStorage` in each tab, and one tab's removal reaches the others a moment later. So a tab first writes
   * a claim, and takes them only if its claim is still the one stored once any other tab's has had time to arrive.
   */
  function sendStored() {
    const claim = String(Math.random());
    storage.set(claimKey, claim);
    claiming = setTimeout(() => {
      if (storage.get(claimKey) !== claim) return;
      outbox.push(...requestsOf(queue.take()));
      pump();
    }, CLAIM_WAIT_MS);
  }

  return {
    pageHidden(leaving) {
      hidden = true;
      // What an earlier hide of this page stored (a beacon refused over the keepalive quota) has another try when
      // the page is left: no other page of the origin may ever load. What other tabs stored stays theirs. Once:
      // what later drains store, the edge has just refused.
      if (leaving && !left) outbox.push(...requestsOf(queue.takeSaved()));
      left ||= leaving;
      beaconing = true;
      // In a microtask, so that the spans the processor ends for this same event leave in the same beacon.
      drainSoon();
    },
    pageShown() {
      if (!hidden) return;
      hidden = false;
      left = false;
      sendStored();
    },
    add(item) {
      const itemBudget = MAX_BATCH_BYTES - wrapping().bytes;
      if (item.bytes > itemBudget) return log('span too large: dropped');
      // A span that would not fit starts the next batch, rather than leaving in a body of its own.
      if (!hidden && pendingBytes + item.bytes > itemBudget) sendPending();
      pending.push(item);
      pendingBytes += item.bytes;
      // Spans ended while hidden (the last web vitals, a fetch finishing) may be the page's last words.
      if (hidden) drainSoon();
      else if (pending.length >= MAX_BATCH_SPANS) sendPending();
      else timer ??= setTimeout(sendPending, BATCH_DELAY_MS);
    },
    sendStored,
    flush() {
      if (hidden) {
        drainHidden();
        return Promise.resolve();
      }
      // Each body queued now, or in flight, has had an attempt: not every retry of it, which can take minutes.
      cutPending();
      // Nothing is attempted while the edge's Retry-After holds (a hold that begins meanwhile releases the flush).
      if (isHeld()) return Promise.resolve();
      const attempted = Promise.all(
        [...outbox, ...inFlight].map((item) => new Promise<void>((resolve) => item.waiters.push(resolve))),
      ).then(() => {});
      pump();
      return attempted;
    },
    shutdown() {
      clearTimeout(claiming);
      return this.flush();
    },
  };
}
