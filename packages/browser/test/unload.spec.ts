/**
 * Delivery when the page goes away, against a test receiver standing in for the rumkit edge: spans still
 * queued at `pagehide` leave by `navigator.sendBeacon` as `text/plain` with the key and clock in the query.
 * The fetch instrumentation ends a span 300 ms after its response; leaving within that time is the hard case,
 * and the span must still end at its response. A page hidden for another tab beacons too, and beacons share
 * Chromium's 64 KiB keepalive quota with the fetches still in flight.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Page } from '@playwright/test';
import { expect, flushAgent, openLoadedPage, storedBodies, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type ReceivedSpan, type Servers, waitFor } from './support/servers.ts';

// The fetch instrumentation's span, not the document-load resource span of the same request (the page's script
// runs past `load`, so the deferred chunk may report the request's resource timing before the page leaves).
const lastCall = () => (s: ReceivedSpan) =>
  s.scope === '@opentelemetry/instrumentation-fetch' && s.attributes['url.full'] === `${ORIGINS.api}/last-call`;

test('a page left right after a fetch still delivers that fetch span, by beacon', async ({ page, servers }) => {
  // The page itself navigates away the moment it has read the answer: always inside the 300 ms.
  servers.app.pages.set(
    '/leave',
    esmPage({ script: `await (await fetch(API + '/last-call')).text(); location.assign('about:blank');` }),
  );
  await page.goto(`${ORIGINS.app}/leave`);
  await page.waitForURL('about:blank');

  const span = await waitFor(() => servers.edge.spans().find(lastCall()), 10_000, 'the fetch span');
  expect(span.request.via).toBe('beacon');
  expect(span.request.headers['content-type']).toBe('text/plain;charset=UTF-8');
  expect(span.request.query.get('key')).toBe('pk_test');
  expect(Math.abs(Number(span.request.query.get('sent_at')) - span.request.at)).toBeLessThan(5_000);
  expect(span.attributes['http.response.status_code']).toBe(200);
});

test('a fetch span ended because the page left ends when its response did, not when the page left', async ({
  page,
  servers,
}) => {
  // The page reads the answer, notes the time, and leaves 200 ms later: inside the instrumentation's 300 ms.
  servers.app.pages.set(
    '/leave-later',
    esmPage({
      script: `await (await fetch(API + '/last-call')).text();
        const read = Date.now();
        setTimeout(() => location.assign('about:blank#' + read), 200);`,
    }),
  );
  await page.goto(`${ORIGINS.app}/leave-later`);
  await page.waitForURL(/^about:blank#/);
  const read = Number(new URL(page.url()).hash.slice(1));

  const span = await waitFor(() => servers.edge.spans().find(lastCall()), 10_000, 'the fetch span');
  expect(span.request.via).toBe('beacon');
  const endMs = Number(BigInt(span.endTimeUnixNano) / 1_000_000n);
  // The response was complete before the page read it; the page left 200 ms after.
  expect(endMs).toBeLessThanOrEqual(read + 50);
  expect(endMs).toBeGreaterThanOrEqual(Number(BigInt(span.startTimeUnixNano) / 1_000_000n));
});

test('an XHR span ended because the page left has its status code and ends at its response', async ({
  page,
  servers,
}) => {
  // Inside the XHR instrumentation's 300 ms wait, in which it would have set the status.
  servers.app.pages.set(
    '/leave-xhr',
    esmPage({
      before: `const { xhr } = await import('/dist/xhr.js');`,
      config: 'xhr',
      script: `const request = new XMLHttpRequest();
        request.open('GET', API + '/last-xhr');
        request.onload = () => {
          const read = Date.now();
          setTimeout(() => location.assign('about:blank#' + read), 100);
        };
        request.send();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/leave-xhr`);
  await page.waitForURL(/^about:blank#/);
  const read = Number(new URL(page.url()).hash.slice(1));
  const span = await waitFor(
    () =>
      servers.edge
        .spans()
        .find(
          (s) =>
            s.scope === '@opentelemetry/instrumentation-xml-http-request' &&
            s.attributes['url.full'] === `${ORIGINS.api}/last-xhr`,
        ),
    10_000,
    'the XHR span',
  );
  expect(span.request.via).toBe('beacon');
  expect(span.attributes['http.response.status_code']).toBe(200);
  expect(Number(BigInt(span.endTimeUnixNano) / 1_000_000n)).toBeLessThanOrEqual(read + 50);
});

test('a tab closed right after a fetch still delivers that fetch span', async ({ page, servers }) => {
  servers.app.pages.set(
    '/close',
    esmPage({ script: `await (await fetch(API + '/last-call')).text(); console.log('fetched');` }),
  );
  // The page tells the test the moment the answer is read, and the tab closes then.
  const fetched = page.waitForEvent('console', (message) => message.text() === 'fetched');
  await page.goto(`${ORIGINS.app}/close`);
  await fetched;
  // With runBeforeUnload, close() returns before the page has gone; wait for that too.
  await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);
  await waitFor(() => servers.edge.spans().find(lastCall()), 10_000, 'the fetch span');
});

/** Runs in the page (`visibilityPage` installs it): what a switch to another tab or back tells the agent. */
function setVisibility(state: 'hidden' | 'visible') {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
}
const visibilityPage = () => esmPage({ script: `globalThis.setVisibility = ${setVisibility};` });

test('a page hidden for another tab beacons what it holds, and sends by fetch again once visible', async ({
  page,
  servers,
}) => {
  await openLoadedPage(page, servers, '/tabs', visibilityPage());
  const named = (name: string) => servers.edge.spans().filter((s) => s.name === name);
  /** Ends a span, lets it be encoded and batched, and hides the page while the batch timer (1 s) still runs. */
  const endThenHide = (name: string) =>
    page.evaluate(async (spanName) => {
      (window as unknown as { rum: { tracer: Tracer } }).rum.tracer.startSpan(spanName).end();
      await new Promise((resolve) => setTimeout(resolve, 100));
      setVisibility('hidden');
    }, name);

  await endThenHide('first-hide');
  expect((await waitFor(() => named('first-hide')[0], 5_000, 'the span held at the switch')).request.via).toBe(
    'beacon',
  );

  await page.evaluate(() => {
    setVisibility('visible');
    (window as unknown as { rum: { tracer: Tracer } }).rum.tracer.startSpan('after-show').end();
  });
  expect((await waitFor(() => named('after-show')[0], 5_000, 'the span after the page came back')).request.via).toBe(
    'fetch',
  );

  // Hidden again: the web vitals made their reports at the first switch, so only the agent sends now.
  await endThenHide('second-hide');
  expect((await waitFor(() => named('second-hide')[0], 5_000, 'the span held at the second switch')).request.via).toBe(
    'beacon',
  );
  for (const name of ['first-hide', 'after-show', 'second-hide']) expect(named(name)).toHaveLength(1);
});

test('spans that end later in a hidden page go by fetch, together, and what the edge refuses or holds then is kept', async ({
  page,
  servers,
}) => {
  await openLoadedPage(page, servers, '/background', visibilityPage());
  await flushAgent(page);
  await page.evaluate(() => setVisibility('hidden'));
  await page.waitForTimeout(200);
  const end = (...names: string[]) =>
    page.evaluate((spanNames) => {
      for (const name of spanNames) (window as unknown as { rum: { tracer: Tracer } }).rum.tracer.startSpan(name).end();
    }, names);
  const named = (name: string) => servers.edge.spans().filter((s) => s.name === name);
  const stored = () => storedBodies(page);
  // A dashboard in a background tab, polling: its spans end while it stays hidden.
  servers.edge.fail(1, 503);
  await end('poll-1');
  // Stored once the agent has read the answer, a moment after the edge counted the refusal.
  await waitFor(async () => (await stored()).includes('poll-1') || undefined, 5_000, 'the refused poll stored');
  expect(servers.edge.refused).toBe(1);
  // Spans of one task leave in one request.
  await end('poll-2a', 'poll-2b');
  const [a] = await waitFor(() => (named('poll-2a').length ? named('poll-2a') : undefined), 5_000, 'the next polls');
  expect(a?.request.via).toBe('fetch');
  expect(named('poll-2b')[0]?.request).toBe(a?.request);
  // While the edge's Retry-After holds, what ends goes to storage, not to memory a killed tab would lose.
  servers.edge.fail(1, 503, '2');
  await end('poll-3');
  // The hold begins when the agent reads that answer, which is when it stores poll-3.
  await waitFor(async () => (await stored()).includes('poll-3') || undefined, 5_000, 'the second refusal read');
  await end('poll-4');
  await waitFor(async () => (await stored()).includes('poll-4') || undefined, 2_000, 'poll-4 stored during the hold');
  // Shown again, what was stored goes, each span once.
  await page.evaluate(() => setVisibility('visible'));
  const polls = ['poll-1', 'poll-2a', 'poll-2b', 'poll-3', 'poll-4'];
  await waitFor(() => polls.every((p) => named(p).length) || undefined, 10_000, 'every poll, once visible');
  await page.waitForTimeout(500);
  expect(polls.map((p) => named(p).length)).toEqual([1, 1, 1, 1, 1]);
});

/**
 * Loads a page and has its agent hold about 41 KB of Chromium's 64 KiB keepalive quota, which beacons share:
 * two requests of about 20 KB that the edge answers 3 s later. Then ends `count` spans of about 1.7 KB named
 * `<prefix>-<i>`, which wait for their batch, and with `hide` switches to another tab.
 */
async function crowdKeepaliveQuota(page: Page, servers: Servers, prefix: string, count: number, hide = false) {
  await openLoadedPage(page, servers, '/crowded', visibilityPage());
  await flushAgent(page);
  servers.edge.answerDelayMs = 3_000;
  await page.evaluate(
    ([lastPrefix, lastCount, hideAfter]) => {
      const { rum } = window as unknown as { rum: { tracer: Tracer; flush(): Promise<void> } };
      const spans = (name: string, n: number) => {
        for (let i = 0; i < n; i++)
          rum.tracer.startSpan(`${name}-${i}`, { attributes: { pad: 'x'.repeat(1_000) } }).end();
      };
      spans('in-flight-a', 12);
      void rum.flush();
      spans('in-flight-b', 12);
      void rum.flush();
      spans(lastPrefix, lastCount);
      if (hideAfter) setVisibility('hidden');
    },
    [prefix, count, hide] as const,
  );
}

test('what a hidden page could not beacon, over the keepalive quota, goes out when the page is left', async ({
  page,
  servers,
}) => {
  // About 33 KB, more than the quota has left.
  await crowdKeepaliveQuota(page, servers, 'hidden', 20, true);
  // What did not fit was stored.
  const stored = await storedBodies(page);
  expect(stored.includes('hidden-19')).toBe(true);
  // The tab is closed while hidden, and no other page of the origin loads after it.
  await page.goto('about:blank');
  const hidden = () => servers.edge.spans().filter((s) => s.name.startsWith('hidden-'));
  await waitFor(() => hidden().length >= 20, 10_000, 'the 20 spans, the stored ones too');
  await page.waitForTimeout(500);
  expect(new Set(hidden().map((s) => s.request.via))).toEqual(new Set(['beacon']));
  expect(new Set(hidden().map((s) => s.name)).size).toBe(20);
  expect(hidden()).toHaveLength(20);
});

test('a tab closed while keepalive fetches hold most of the quota beacons what fits, and stores the rest', async ({
  page,
  context,
  servers,
}) => {
  // About 25 KB, more than the quota has left: one beacon of it all would be refused.
  await crowdKeepaliveQuota(page, servers, 'last', 15);
  await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);
  const last = () => servers.edge.spans().filter((s) => s.name.startsWith('last-'));
  await waitFor(() => last().length, 5_000, 'the beacon of what fitted');
  expect(new Set(last().map((s) => s.request.via))).toEqual(new Set(['beacon']));
  expect(last().length).toBeLessThan(15);

  // The rest was stored, and the next page of the origin sends it.
  servers.edge.answerDelayMs = 0;
  await (await context.newPage()).goto(`${ORIGINS.app}/crowded`);
  await waitFor(() => last().length >= 15, 10_000, 'the stored rest');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(new Set(last().map((s) => s.name)).size).toBe(15);
  expect(last()).toHaveLength(15);
});
