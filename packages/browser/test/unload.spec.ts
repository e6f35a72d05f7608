/**
 * Delivery when the page goes away, against a test receiver standing in for the rumkit edge: spans still
 * queued at `pagehide` leave by `navigator.sendBeacon` as `text/plain` with the key and clock in the query.
 */
import { expect, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, waitFor } from './support/servers.ts';

test('a page closed right after a fetch still delivers that fetch span, by beacon', async ({ page, servers }) => {
  servers.app.pages.set(
    '/close',
    esmPage({ script: `await (await fetch(API + '/last-call')).text(); console.log('fetched');` }),
  );
  // The page tells the test the moment the answer is read, and the tab closes then: well inside the
  // 300 ms the fetch instrumentation waits before it ends a span.
  const fetched = page.waitForEvent('console', (message) => message.text() === 'fetched');
  await page.goto(`${ORIGINS.app}/close`);
  await fetched;
  // With runBeforeUnload, close() returns before the page has gone; wait for that too.
  await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);

  const span = await waitFor(
    () => servers.edge.spans().find((s) => s.attributes['url.full'] === `${ORIGINS.api}/last-call`),
    10_000,
    'the fetch span',
  );
  expect(span.request.via).toBe('beacon');
  expect(span.request.headers['content-type']).toBe('text/plain;charset=UTF-8');
  expect(span.request.query.get('key')).toBe('pk_test');
  expect(Math.abs(Number(span.request.query.get('sent_at')) - span.request.at)).toBeLessThan(5_000);
});
