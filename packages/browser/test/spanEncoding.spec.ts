/**
 * When the span processor encodes a span: in a task of its own after the one that ended it (document load
 * ends a dozen spans in one task, which must not also carry their encoding), and at once when the page goes
 * away, so that a span ended just before `pagehide` still leaves with the beacon.
 */
import { expect, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, waitFor } from './support/servers.ts';

/** Page script: keeps the body of every beacon in `bodies`, and still sends it. */
const RECORD_BEACONS = `const bodies = []; const sendBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (url, body) => { bodies.push(String(body)); return sendBeacon(url, body); };`;

test('a span is encoded after the task that ended it, not inside it', async ({ page, servers }) => {
  servers.app.pages.set(
    '/deferred',
    esmPage({
      // beforeSend runs where the span is encoded: it records the phase of the page's task then.
      config: `beforeSend: (span) => { window.encodedIn ??= {}; window.encodedIn[span.name] = window.phase; return span; }`,
      script: `window.phase = 'ending'; rum.tracer.startSpan('work').end(); window.phase = 'after';`,
    }),
  );
  await page.goto(`${ORIGINS.app}/deferred`);
  await expect(page.locator('#status')).toHaveText('ready');
  const phase = await page.waitForFunction(
    () => (window as unknown as { encodedIn?: Record<string, string> }).encodedIn?.work,
  );
  expect(await phase.jsonValue()).toBe('after');
});

test('a span ended in the same task as pagehide leaves with the beacon, before any timer runs', async ({
  page,
  servers,
}) => {
  // A synthetic pagehide in the very task that ends the span; the page then looks, before any timer could run,
  // whether a beacon carried it (the agent beacons in a microtask of the pagehide task).
  servers.app.pages.set(
    '/last-words',
    esmPage({
      script: `${RECORD_BEACONS}
rum.tracer.startSpan('last-words').end();
dispatchEvent(new PageTransitionEvent('pagehide'));
await null;
window.beaconedAtOnce = bodies.some((body) => body.includes('last-words'));`,
    }),
  );
  await page.goto(`${ORIGINS.app}/last-words`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { beaconedAtOnce: boolean }).beaconedAtOnce)).toBe(true);
  const span = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'last-words'),
    10_000,
    'the span ended before pagehide',
  );
  expect(span.request.via).toBe('beacon');
});

test('what the transport holds and what ends at pagehide leave in one beacon', async ({ page, servers }) => {
  // 'queued' is encoded and waits in the transport's batch; 'at-hide' ends in the pagehide task itself.
  servers.app.pages.set(
    '/one-beacon',
    esmPage({
      script: `${RECORD_BEACONS}
rum.tracer.startSpan('queued').end();
await new Promise((resolve) => setTimeout(resolve, 50));
rum.tracer.startSpan('at-hide').end();
dispatchEvent(new PageTransitionEvent('pagehide'));
await null;
window.beacons = bodies.map((body) => ['queued', 'at-hide'].filter((name) => body.includes(name)));`,
    }),
  );
  await page.goto(`${ORIGINS.app}/one-beacon`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { beacons: string[][] }).beacons)).toEqual([
    ['queued', 'at-hide'],
  ]);
});

test('an agent started while the page is hidden beacons a span at once, before any timer runs', async ({
  page,
  servers,
}) => {
  // A background tab: the agent arrives (the async snippet) while the page is hidden, and no visibilitychange follows.
  servers.app.pages.set(
    '/started-hidden',
    esmPage({
      before: `Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });`,
      script: `${RECORD_BEACONS}
rum.tracer.startSpan('started-hidden').end();
await null;
window.beaconedAtOnce = bodies.some((body) => body.includes('started-hidden'));`,
    }),
  );
  await page.goto(`${ORIGINS.app}/started-hidden`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { beaconedAtOnce: boolean }).beaconedAtOnce)).toBe(true);
  const span = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'started-hidden'),
    10_000,
    'the span of the hidden page',
  );
  expect(span.request.via).toBe('beacon');
});
