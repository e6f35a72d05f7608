/**
 * Delivery when the page goes away, against a test receiver standing in for the rumkit edge: spans still
 * queued at `pagehide` leave by `navigator.sendBeacon` as `text/plain` with the key and clock in the query.
 * The fetch instrumentation ends a span 300 ms after its response; leaving within that time is the hard case,
 * and the span must still end at its response.
 */
import { expect, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type ReceivedSpan, waitFor } from './support/servers.ts';

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
