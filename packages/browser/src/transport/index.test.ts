import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../test/support/memoryStorage.ts';
import { type Settings, validateConfig } from '../config.ts';
import type { SafeStorage } from '../lib/storage.ts';
import {
  BATCH_DELAY_MS,
  CLAIM_KEY,
  CLAIM_WAIT_MS,
  createTransport,
  HOLD_KEY,
  KEEPALIVE_BYTES,
  KEEPALIVE_REQUESTS,
  MAX_BATCH_BYTES,
  MAX_BATCH_SPANS,
  MAX_OUTBOX_BYTES,
  REQUEST_TIMEOUT_MS,
} from './index.ts';
import { createPersistentQueue } from './persistentQueue.ts';
import { MAX_DELAY_MS } from './retryPolicy.ts';

const settings = validateConfig({
  endpoint: 'https://rum.example.com',
  apiKey: 'pk_test',
  serviceName: 'web',
}) as Settings;
/** What agents of this edge and key stored, as the transport's own queue holds it. */
const storedQueue = (storage: SafeStorage) => createPersistentQueue(storage, settings.scope);

/** A serialised span of exactly `bytes` bytes. */
const item = (bytes: number) => ({ scope: '{"name":"s"}', span: `"${'x'.repeat(bytes - 2)}"`, bytes });

interface Request {
  body: string;
  keepalive: boolean | undefined;
  answered: boolean;
  answer(status?: number, headers?: Record<string, string>): void;
}

/** A transport whose `fetch` records each request and answers it only when the test says so. */
function transportWithStubbedFetch(storage = memoryStorage()) {
  const requests: Request[] = [];
  vi.stubGlobal(
    'fetch',
    (_url: string, init: RequestInit) =>
      new Promise<Response>((resolve) => {
        const request: Request = {
          body: init.body as string,
          keepalive: init.keepalive,
          answered: false,
          answer(status = 200, headers = {}) {
            request.answered = true;
            resolve(new Response('{}', { status, headers }));
          },
        };
        requests.push(request);
      }),
  );
  const transport = createTransport(
    settings,
    () => '{}',
    storage,
    () => {},
  );
  const inFlight = () => requests.filter((r) => !r.answered);
  const inFlightBytes = () => inFlight().reduce((sum, r) => sum + new TextEncoder().encode(r.body).length, 0);
  return { transport, requests, inFlight, inFlightBytes };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('createTransport: when a batch leaves', () => {
  it('sends a few spans once the batch delay has passed, as a keepalive fetch', () => {
    const { transport, requests } = transportWithStubbedFetch();
    transport.add(item(100));
    transport.add(item(100));
    vi.advanceTimersByTime(BATCH_DELAY_MS - 1);
    expect(requests).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.keepalive).toBe(true);
    expect(requests[0]?.body.match(/"x+"/g)).toHaveLength(2);
  });

  it('asks for the resource once, with the first span, and keeps every body with it within the byte limit', () => {
    const bodies: string[] = [];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      bodies.push(init.body as string);
      return new Promise<Response>(() => {});
    });
    const resource = vi.fn(() =>
      JSON.stringify({ attributes: [{ key: 'a', value: { stringValue: 'r'.repeat(5_000) } }] }),
    );
    const transport = createTransport(settings, resource, memoryStorage(), () => {});
    expect(resource).not.toHaveBeenCalled();
    for (let i = 0; i < 6; i++) transport.add(item(5_000));
    expect(resource).toHaveBeenCalledOnce();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('r'.repeat(5_000));
    expect(new TextEncoder().encode(bodies[0]).length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });

  it('sends at once when a batch reaches the span limit', () => {
    const { transport, requests } = transportWithStubbedFetch();
    for (let i = 0; i < MAX_BATCH_SPANS - 1; i++) transport.add(item(50));
    expect(requests).toHaveLength(0);
    transport.add(item(50));
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body.match(/"x+"/g)).toHaveLength(MAX_BATCH_SPANS);
  });

  it('sends the batch at once when the next span would take it past the byte limit; that span starts the next', () => {
    const { transport, requests } = transportWithStubbedFetch();
    const third = Math.floor(MAX_BATCH_BYTES / 3);
    transport.add(item(third));
    transport.add(item(third));
    expect(requests).toHaveLength(0);
    transport.add(item(third));
    // Not a full body and a second one of a single span: the third waits for the spans after it.
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body.match(/"x+"/g)).toHaveLength(2);
    expect(requests[0]?.body.length).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    transport.add(item(100));
    vi.advanceTimersByTime(BATCH_DELAY_MS);
    expect(requests).toHaveLength(2);
    expect(requests[1]?.body.match(/"x+"/g)).toHaveLength(2);
  });
});

describe('createTransport: what earlier pages stored', () => {
  it('leaves when the agent calls sendStored() (after load), not when the transport is created', () => {
    const storage = memoryStorage();
    storedQueue(storage).save(['{"resourceSpans":["stored"]}']);
    const { transport, requests } = transportWithStubbedFetch(storage);
    expect(requests).toHaveLength(0);
    transport.sendStored();
    vi.advanceTimersByTime(CLAIM_WAIT_MS);
    expect(requests.map((r) => r.body)).toEqual(['{"resourceSpans":["stored"]}']);
    // Taken once: a second call finds nothing.
    transport.sendStored();
    vi.advanceTimersByTime(CLAIM_WAIT_MS);
    expect(requests).toHaveLength(1);
  });

  it('are left to another tab whose claim came after this one', () => {
    const storage = memoryStorage();
    storedQueue(storage).save(['{"resourceSpans":["stored"]}']);
    const { transport, requests } = transportWithStubbedFetch(storage);
    transport.sendStored();
    storage.set(`${CLAIM_KEY}.${settings.scope}`, 'another tab');
    vi.advanceTimersByTime(CLAIM_WAIT_MS);
    expect(requests).toHaveLength(0);
    expect(storedQueue(storage).take()).toEqual(['{"resourceSpans":["stored"]}']);
  });

  it('are sent except bodies larger than a keepalive request may be', () => {
    const storage = memoryStorage();
    const tooLarge = `"${'x'.repeat(KEEPALIVE_BYTES)}"`;
    storedQueue(storage).save(['{"resourceSpans":["stored"]}', tooLarge]);
    const { transport, requests } = transportWithStubbedFetch(storage);
    transport.sendStored();
    vi.advanceTimersByTime(CLAIM_WAIT_MS);
    expect(requests.map((r) => r.body)).toEqual(['{"resourceSpans":["stored"]}']);
  });

  it('stay for the next page when this one is left before it took them', async () => {
    const storage = memoryStorage();
    storedQueue(storage).save(['{"resourceSpans":["stored"]}']);
    const beacons: string[] = [];
    vi.stubGlobal('navigator', { onLine: true, sendBeacon: (_url: string, body: string) => !!beacons.push(body) });
    const { transport } = transportWithStubbedFetch(storage);
    transport.pageHidden(true);
    await Promise.resolve();
    expect(beacons).toEqual([]);
    expect(storedQueue(storage).take()).toEqual(['{"resourceSpans":["stored"]}']);
  });

  it("when the page is left, are what this page stored itself, not other tabs'", async () => {
    const storage = memoryStorage();
    const beacons: string[] = [];
    const browser = { onLine: false, sendBeacon: (_url: string, body: string) => !!beacons.push(body) };
    vi.stubGlobal('navigator', browser);
    const { transport } = transportWithStubbedFetch(storage);
    transport.add(item(100));
    // Hidden while offline: the batch is stored, not beaconed.
    transport.pageHidden(false);
    await Promise.resolve();
    storedQueue(storage).save(['{"resourceSpans":["another tab"]}']);
    browser.onLine = true;
    transport.pageHidden(true);
    await Promise.resolve();
    expect(beacons).toHaveLength(1);
    expect(beacons[0]?.match(/"x+"/g)).toHaveLength(1);
    expect(storedQueue(storage).take()).toEqual(['{"resourceSpans":["another tab"]}']);
  });

  it('are not taken once shutdown() came during the claim', async () => {
    const storage = memoryStorage();
    storedQueue(storage).save(['{"resourceSpans":["stored"]}']);
    const { transport, requests } = transportWithStubbedFetch(storage);
    transport.sendStored();
    await transport.shutdown();
    vi.advanceTimersByTime(CLAIM_WAIT_MS);
    expect(requests).toHaveLength(0);
    expect(storedQueue(storage).take()).toHaveLength(1);
  });
});

describe('createTransport: keepalive limits', () => {
  it(`keeps at most ${KEEPALIVE_REQUESTS} requests in flight; the next leaves when one is answered`, async () => {
    const { transport, requests, inFlight } = transportWithStubbedFetch();
    for (let i = 0; i < (KEEPALIVE_REQUESTS + 2) * MAX_BATCH_SPANS; i++) transport.add(item(50));
    expect(requests).toHaveLength(KEEPALIVE_REQUESTS);
    requests[0]?.answer();
    await vi.waitFor(() => expect(requests).toHaveLength(KEEPALIVE_REQUESTS + 1));
    expect(inFlight()).toHaveLength(KEEPALIVE_REQUESTS);
  });

  it(`keeps the bodies in flight under ${KEEPALIVE_BYTES} bytes; the next leaves when there is room`, async () => {
    const { transport, requests, inFlight, inFlightBytes } = transportWithStubbedFetch();
    // Four bodies of about 24 KB each: two fit in flight, a third would pass the limit.
    for (let i = 0; i < 4; i++) transport.add(item(24_000));
    expect(requests).toHaveLength(2);
    expect(inFlightBytes()).toBeLessThanOrEqual(KEEPALIVE_BYTES);
    requests[0]?.answer();
    await vi.waitFor(() => expect(requests).toHaveLength(3));
    expect(inFlight()).toHaveLength(2);
    expect(inFlightBytes()).toBeLessThanOrEqual(KEEPALIVE_BYTES);
  });
});

describe('createTransport: an edge slower than the page', () => {
  it(`keeps at most ${MAX_OUTBOX_BYTES} bytes waiting, storing the oldest beyond, and sends the newest`, async () => {
    const storage = memoryStorage();
    const { transport, requests } = transportWithStubbedFetch(storage);
    // Ten times what may wait, in bodies of about 20 KB, while the two in flight are not answered.
    const bodies = Math.ceil((10 * MAX_OUTBOX_BYTES) / 20_000);
    for (let i = 0; i < bodies; i++) transport.add(item(20_000));
    transport.add({ scope: '{"name":"s"}', span: '"last"', bytes: 6 });
    await vi.advanceTimersByTimeAsync(BATCH_DELAY_MS);
    const first = requests.length;
    expect(storedQueue(storage).take().length).toBeGreaterThan(0);
    // Then the edge answers everything: what waited goes out, and no more than the bound waited.
    for (let answered = 0; answered < requests.length && answered < bodies; answered++) {
      requests[answered]?.answer();
      await vi.advanceTimersByTimeAsync(0);
    }
    const waited = requests.length - first;
    expect(waited).toBeGreaterThan(0);
    expect(waited * 20_000).toBeLessThanOrEqual(MAX_OUTBOX_BYTES + 20_000);
    // The last span added was among them.
    expect(requests.at(-1)?.body).toContain('"last"');
  });
});

describe("createTransport: the edge's Retry-After", () => {
  it('holds every batch of the page, not only the one it answered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { transport, requests } = transportWithStubbedFetch();
    transport.add(item(100));
    await vi.advanceTimersByTimeAsync(BATCH_DELAY_MS);
    expect(requests).toHaveLength(1);
    requests[0]?.answer(429, { 'retry-after': '5' });
    await vi.advanceTimersByTimeAsync(0);
    transport.add(item(100));
    await vi.advanceTimersByTimeAsync(BATCH_DELAY_MS);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    // Both go out once the 5 s are over: the new batch and the retry of the refused one.
    expect(requests).toHaveLength(3);
  });

  it('releases a flush() waiting for batches the hold puts off; they stay queued and go when it ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const storage = memoryStorage();
    const { transport, requests } = transportWithStubbedFetch(storage);
    // Three bodies of about 24 KB: two fit in flight, the third waits for room.
    for (let i = 0; i < 3; i++) transport.add(item(24_000));
    expect(requests).toHaveLength(2);
    let flushed = false;
    void transport.flush().then(() => {
      flushed = true;
    });
    requests[0]?.answer(503, { 'retry-after': '3600' });
    requests[1]?.answer(503, { 'retry-after': '3600' });
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed).toBe(true);
    // Past MAX_DELAY_MS the refused batches are left to the next page; the one held goes once the hold ends.
    expect(storedQueue(storage).take()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(MAX_DELAY_MS - 1);
    expect(requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(3);
  });

  it('holds the next page of the origin too, at most MAX_DELAY_MS, for what it stored and what it makes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const storage = memoryStorage();
    const first = transportWithStubbedFetch(storage);
    first.transport.add(item(100));
    await vi.advanceTimersByTimeAsync(BATCH_DELAY_MS);
    first.requests[0]?.answer(429, { 'retry-after': '20' });
    await vi.advanceTimersByTimeAsync(0);
    // The page is left while the hold runs: the refused batch is stored, not beaconed.
    first.transport.pageHidden(true);
    await vi.advanceTimersByTimeAsync(0);
    // The next page loads 5 s later: 15 s of the hold are left.
    await vi.advanceTimersByTimeAsync(5_000);
    const next = transportWithStubbedFetch(storage);
    next.transport.sendStored();
    next.transport.add(item(100));
    await vi.advanceTimersByTimeAsync(15_000 - 1);
    expect(next.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(next.requests).toHaveLength(2);
  });

  it('waits no longer than MAX_DELAY_MS for a stored hold, whatever time it names', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const storage = memoryStorage();
    // A hold stored before the clock was set back by a day.
    storage.set(`${HOLD_KEY}.${settings.scope}`, String(Date.now() + 86_400_000));
    const { transport, requests } = transportWithStubbedFetch(storage);
    transport.add(item(100));
    // The batch is due, and the stored hold read, a second after the span.
    await vi.advanceTimersByTimeAsync(BATCH_DELAY_MS + MAX_DELAY_MS - 1);
    expect(requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(requests).toHaveLength(1);
  });

  it('stores, rather than beacons, what is left at page hide while the edge asked to wait', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const beacons: string[] = [];
    vi.stubGlobal('navigator', { onLine: true, sendBeacon: (_url: string, body: string) => !!beacons.push(body) });
    const storage = memoryStorage();
    const { transport, requests } = transportWithStubbedFetch(storage);
    transport.add(item(100));
    await vi.advanceTimersByTimeAsync(BATCH_DELAY_MS);
    requests[0]?.answer(429, { 'retry-after': '20' });
    await vi.advanceTimersByTimeAsync(0);
    transport.add(item(100));
    transport.pageHidden(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(beacons).toEqual([]);
    expect(storedQueue(storage).take()).toHaveLength(2);
  });
});

describe('createTransport: an edge that never answers', () => {
  it(`gives a request up after ${REQUEST_TIMEOUT_MS} ms, so flush() resolves and the batch is retried`, async () => {
    // AbortSignal.timeout as the browser's, on the test's fake clock.
    vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), ms);
      return controller.signal;
    });
    const requests: string[] = [];
    vi.stubGlobal(
      'fetch',
      (_url: string, init: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          requests.push(init.body as string);
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const transport = createTransport(
      settings,
      () => '{}',
      memoryStorage(),
      () => {},
    );
    transport.add(item(100));
    let flushed = false;
    void transport.flush().then(() => {
      flushed = true;
    });
    await vi.advanceTimersByTimeAsync(REQUEST_TIMEOUT_MS - 1);
    expect(flushed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(flushed).toBe(true);
    // The first retry waits at most FIRST_DELAY_MS.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(requests).toHaveLength(2);
  });

  it('resolves flush() once each batch has had an attempt, though more wait for room than fit at once', async () => {
    vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), ms);
      return controller.signal;
    });
    let requests = 0;
    vi.stubGlobal(
      'fetch',
      (_url: string, init: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          requests++;
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const transport = createTransport(
      settings,
      () => '{}',
      memoryStorage(),
      () => {},
    );
    // Four bodies of about 25 KB: two fit the keepalive budget at a time, and the first two are retried.
    for (let i = 0; i < 8; i++) transport.add(item(12_000));
    let flushed = false;
    void transport.flush().then(() => {
      flushed = true;
    });
    // The fake clock covers timers only: count the seconds it is advanced until flush() resolves.
    let flushedAt: number | undefined;
    for (let second = 1; second <= 60; second++) {
      await vi.advanceTimersByTimeAsync(1_000);
      if (flushed) flushedAt ??= second * 1_000;
    }
    expect(requests).toBeGreaterThan(4);
    // Two rounds of 10 s timeouts, not the minutes the retries take.
    expect(flushedAt).toBeGreaterThanOrEqual(2 * REQUEST_TIMEOUT_MS);
    expect(flushedAt).toBeLessThanOrEqual(2 * REQUEST_TIMEOUT_MS + 2_000);
  });
});
