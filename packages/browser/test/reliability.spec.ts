/**
 * Delivery guarantees, against a test receiver standing in for the rumkit edge: nothing lost or duplicated
 * over many page loads, every span exactly once through a burst of 503s, and a batch that could not be
 * sent from an offline page, or refused after the page said it was going, delivered by the next page load;
 * a 429's `Retry-After` honoured, a 400 never retried.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Page } from '@playwright/test';
import { expect, flushAgent, openLoadedPage, STORED_BODY_KEY, storedBodies, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type Servers, waitFor } from './support/servers.ts';

const LOADS = 200;

test(`${LOADS} sequential page loads lose no span and duplicate none`, async ({ page, servers }) => {
  test.setTimeout(240_000);
  servers.app.pages.set(
    '/load',
    esmPage({ script: `rum.tracer.startSpan('page-' + new URLSearchParams(location.search).get('n')).end();` }),
  );
  for (let n = 0; n < LOADS; n++) {
    // Each load leaves before its batch timer fires: its span must go out at pagehide, by beacon.
    await page.goto(`${ORIGINS.app}/load?n=${n}`);
    await expect(page.locator('#status')).toHaveText('ready');
  }
  await page.goto('about:blank');

  const markers = () => servers.edge.spans().filter((s) => s.name.startsWith('page-'));
  await waitFor(() => markers().length >= LOADS, 20_000, `${LOADS} marker spans`);
  await page.waitForTimeout(500);
  const names = markers().map((s) => s.name);
  expect(new Set(names).size).toBe(LOADS);
  expect(names).toHaveLength(LOADS);
  // No span of any kind (document loads, web vitals, …) arrived twice.
  const ids = servers.edge.spans().map((s) => s.spanId);
  expect(new Set(ids).size).toBe(ids.length);
});

test('a burst of 503s, then recovery, delivers every span exactly once', async ({ page, servers }) => {
  servers.edge.fail(3, 503, '1');
  servers.app.pages.set(
    '/burst',
    esmPage({
      script: `
        for (let i = 0; i < 30; i++) rum.tracer.startSpan('burst-' + i).end();
        await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/burst`);
  const burst = () => servers.edge.spans().filter((s) => s.name.startsWith('burst-'));
  await waitFor(() => burst().length >= 30, 20_000, 'the 30 spans after the 503s');
  await page.waitForTimeout(1_500);
  expect(servers.edge.refused).toBe(3);
  expect(new Set(burst().map((s) => s.name)).size).toBe(30);
  expect(burst()).toHaveLength(30);
});

test("an offline page's batch is delivered by the next page load, once", async ({ page, context, servers }) => {
  servers.app.pages.set(
    '/offline',
    esmPage({ script: `if (location.search === '?first') rum.tracer.startSpan('made-offline').end();` }),
  );
  await page.goto(`${ORIGINS.app}/offline?first`);
  await expect(page.locator('#status')).toHaveText('ready');
  await context.setOffline(true);
  await flushAgent(page); // fails: the batch waits for a retry
  await context.setOffline(false);
  servers.edge.answerDelayMs = 1_000;
  // Leaving before the retry: the batch is stored at pagehide, since the edge did not take it.
  await page.goto(`${ORIGINS.app}/offline?second`);
  await expect(page.locator('#status')).toHaveText('ready');
  const span = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'made-offline'),
    10_000,
    'the offline span',
  );
  expect(span.request.via).toBe('fetch');
  // The second page leaves while that request is still unanswered: unloading rejects its promise although
  // the request went through, which must not put the batch back in storage for the third page.
  await page.goto(`${ORIGINS.app}/offline?third`);
  await expect(page.locator('#status')).toHaveText('ready');
  servers.edge.answerDelayMs = 0;
  await flushAgent(page);
  await page.waitForTimeout(1_500);
  expect(servers.edge.spans().filter((s) => s.name === 'made-offline')).toHaveLength(1);
});

test('a batch an earlier page stored is sent by one of the tabs that start together, not by each', async ({
  page,
  context,
  servers,
}) => {
  // Each tab starts its agent (already loaded) when the test says so: all of them take the stored batches at once.
  servers.app.pages.set(
    '/tabs',
    esmPage({
      before: `
        await import('/dist/index.js');
        await new Promise((resolve) => { new BroadcastChannel('start').onmessage = resolve; });`,
    }),
  );
  const tabs = [page, ...(await Promise.all([1, 2, 3, 4].map(() => context.newPage())))];
  for (const tab of tabs) await tab.goto(`${ORIGINS.app}/tabs`);
  const span = {
    traceId: '1'.repeat(32),
    spanId: '2'.repeat(16),
    name: 'stored-once',
    kind: 1,
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
  };
  const body = JSON.stringify({
    resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'test' }, spans: [span] }] }],
  });
  await page.evaluate(({ key, stored }) => localStorage.setItem(key, stored), { key: STORED_BODY_KEY, stored: body });
  await page.waitForTimeout(200);
  await page.evaluate(() => new BroadcastChannel('start').postMessage('go'));
  for (const tab of tabs) await expect(tab.locator('#status')).toHaveText('ready');
  await waitFor(() => servers.edge.spans().some((s) => s.name === 'stored-once'), 10_000, 'the stored span');
  await page.waitForTimeout(1_500);
  expect(servers.edge.spans().filter((s) => s.name === 'stored-once')).toHaveLength(1);
});

test('offline tabs closed together each keep their batch for the next page load', async ({
  page,
  context,
  servers,
}) => {
  servers.app.pages.set('/offline-tab', esmPage());
  const tabs = await Promise.all([1, 2, 3, 4, 5].map(() => context.newPage()));
  for (const tab of tabs) {
    await tab.goto(`${ORIGINS.app}/offline-tab`);
    await expect(tab.locator('#status')).toHaveText('ready');
  }
  await context.setOffline(true);
  const record = (name: string) => (window as unknown as { rum: { tracer: Tracer } }).rum.tracer.startSpan(name).end();
  await Promise.all(tabs.map((tab, n) => tab.evaluate(record, `offline-${n}`)));
  // Each tab stores its batch at pagehide, offline, while the others store theirs.
  await Promise.all(tabs.map((tab) => Promise.all([tab.waitForEvent('close'), tab.close({ runBeforeUnload: true })])));
  await context.setOffline(false);
  await page.goto(`${ORIGINS.app}/offline-tab`);
  await expect(page.locator('#status')).toHaveText('ready');
  const names = () =>
    servers.edge
      .spans()
      .map((s) => s.name)
      .filter((name) => name.startsWith('offline-'));
  await waitFor(() => names().length >= tabs.length, 10_000, 'the spans of every offline tab');
  await page.waitForTimeout(1_000);
  expect(names().sort()).toEqual(tabs.map((_, n) => `offline-${n}`));
});

test('two apps on one origin, each with its own key, keep their stored batches apart: each sends only its own', async ({
  page,
  context,
  servers,
}) => {
  const app = (apiKey: string) =>
    esmPage({
      config: `apiKey: '${apiKey}'`,
      script: `if (location.search === '?offline') rum.tracer.startSpan('made-by-${apiKey}').end();`,
    });
  servers.app.pages.set('/app-a', app('pk_test'));
  servers.app.pages.set('/app-b', app('pk_other'));
  await page.goto(`${ORIGINS.app}/app-a?offline`);
  await expect(page.locator('#status')).toHaveText('ready');
  await context.setOffline(true);
  await flushAgent(page); // fails: the batch waits for a retry
  await context.setOffline(false);
  // App A is left before the retry, storing its batch; app B loads on the same origin and sends what it stored.
  await openLoadedPage(page, servers, '/app-b', app('pk_other'));
  await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'documentLoad' && s.request.query.get('key') === 'pk_other'),
    10_000,
    "app B's documentLoad, sent after it took what its own earlier pages stored",
  );
  expect(await storedBodies(page)).toContain('made-by-pk_test');
  // App A's next page sends it, under its own key.
  await page.goto(`${ORIGINS.app}/app-a`);
  const span = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'made-by-pk_test'),
    10_000,
    "app A's stored span",
  );
  expect(span.request.query.get('key')).toBe('pk_test');
  expect(servers.edge.spans().filter((s) => s.name === 'made-by-pk_test')).toHaveLength(1);
});

test('a 503 that answers after pagehide stores the batch for the next page load', async ({ page, servers }) => {
  servers.app.pages.set(
    '/late',
    esmPage({ script: `if (location.search === '?first') rum.tracer.startSpan('refused-late').end();` }),
  );
  await page.goto(`${ORIGINS.app}/late?first`);
  await expect(page.locator('#status')).toHaveText('ready');
  servers.edge.fail(1, 503);
  servers.edge.answerDelayMs = 1_000;
  // The export leaves, then the page says it is going (the window in which a page still runs after its
  // pagehide): the edge's later 503 is a real answer, unlike the failure unloading gives every request.
  await page.evaluate(() => {
    void (window as unknown as { rum: { flush(): Promise<void> } }).rum.flush();
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
  });
  await expect.poll(() => servers.edge.refused).toBe(1);
  await expect.poll(() => storedBodies(page)).toContain('refused-late');

  servers.edge.answerDelayMs = 0;
  await page.goto(`${ORIGINS.app}/late?second`);
  await expect(page.locator('#status')).toHaveText('ready');
  await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'refused-late'),
    10_000,
    'the refused span, from storage',
  );
  await page.waitForTimeout(1_500);
  expect(servers.edge.spans().filter((s) => s.name === 'refused-late')).toHaveLength(1);
});

/** Ends a span named `name` in the page and flushes: its batch has had its first attempt when this resolves. */
async function sendSpan(page: Page, name: string) {
  await page.evaluate((spanName) => {
    const { rum } = window as unknown as { rum: { tracer: Tracer; flush(): Promise<void> } };
    rum.tracer.startSpan(spanName).end();
    return rum.flush();
  }, name);
}

/**
 * Opens `path` and waits for its load's spans to go, then sends a span named `name` that the edge answers with
 * `status` (and `Retry-After`): the refused batch is the test's alone.
 */
async function sendRefused(
  page: Page,
  servers: Servers,
  path: string,
  name: string,
  status: number,
  retryAfter?: string,
) {
  await openLoadedPage(page, servers, path, esmPage());
  await flushAgent(page);
  servers.edge.fail(1, status, retryAfter);
  await sendSpan(page, name);
}

test('a 429 with Retry-After: 2 is retried no sooner than 2 s later, and delivered once', async ({ page, servers }) => {
  // Document load and the first web vitals are sent first, so the refused batch is the test's.
  await sendRefused(page, servers, '/busy', 'throttled', 429, '2');
  const throttled = () => servers.edge.spans().filter((s) => s.name === 'throttled');
  const span = await waitFor(() => throttled()[0], 10_000, 'the retried span');
  expect(servers.edge.refused).toBe(1);
  // The backoff alone would have retried within 1 s.
  expect(span.request.at - (servers.edge.refusedAt[0] ?? 0)).toBeGreaterThanOrEqual(2_000);
  await page.waitForTimeout(1_500);
  expect(throttled()).toHaveLength(1);
});

test("while the edge's Retry-After holds, flush() and shutdown() end at once, and the held span goes after it", async ({
  page,
  servers,
}) => {
  await sendRefused(page, servers, '/held', 'refused', 503, '4');
  await waitFor(() => servers.edge.refused === 1 || undefined, 10_000, 'the refusal');
  const outcome = await page.evaluate(async () => {
    const { rum } = window as unknown as { rum: { tracer: Tracer; flush(): Promise<void>; shutdown(): Promise<void> } };
    rum.tracer.startSpan('held').end();
    const waited = (p: Promise<void>) =>
      Promise.race([p.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 2_000))]);
    return [await waited(rum.flush()), await waited(rum.shutdown())];
  });
  // Four seconds of hold: a flush that waited for an attempt would still be waiting.
  expect(outcome).toEqual(['ended', 'ended']);
  // After the hold both go, each once, in bodies of their own and in either order.
  const delivered = (name: string) => servers.edge.spans().filter((s) => s.name === name).length;
  await waitFor(() => (delivered('held') && delivered('refused')) || undefined, 10_000, 'both spans, after the hold');
  expect([delivered('held'), delivered('refused')]).toEqual([1, 1]);
});

test("the edge's Retry-After holds the next page of the origin too: what it stored and what it makes", async ({
  page,
  servers,
}) => {
  await sendRefused(page, servers, '/throttled', 'refused', 503, '4');
  const refusedAt = servers.edge.refusedAt[0] ?? 0;
  // Left while the hold runs: the refused batch is stored for the next page, which loads at once.
  await page.goto(`${ORIGINS.app}/throttled?next`);
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'refused'), 10_000, 'the refused span');
  const documentLoads = () => servers.edge.spans().filter((s) => s.name === 'documentLoad').length;
  await waitFor(() => documentLoads() === 2 || undefined, 10_000, "the next page's documentLoad");
  // Nothing reached the edge for the 4 s it asked for, neither the stored batch nor the next page's own spans.
  expect(servers.edge.requests.filter((r) => r.at > refusedAt && r.at < refusedAt + 4_000)).toEqual([]);
  expect(servers.edge.spans().filter((s) => s.name === 'refused')).toHaveLength(1);
});

for (const method of ['flush', 'shutdown'] as const) {
  test(`${method}() ends soon when a long Retry-After begins during it, though batches wait for keepalive room`, async ({
    page,
    servers,
  }) => {
    await openLoadedPage(page, servers, `/held-${method}`, esmPage());
    await flushAgent(page);
    servers.edge.fail(2, 503, '3600');
    const outcome = await page.evaluate(async (call) => {
      const { rum } = window as unknown as {
        rum: { tracer: Tracer; flush(): Promise<void>; shutdown(): Promise<void> };
      };
      // Three bodies of about 24 KB: two fit the keepalive budget in flight, the third waits for room. The edge
      // refuses the two, asking for an hour; the third is held then, and its attempt put off.
      for (let i = 0; i < 3; i++) rum.tracer.startSpan(`big-${i}`, { attributes: { pad: 'x'.repeat(23_000) } }).end();
      const gaveUp = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000));
      return Promise.race([rum[call]().then(() => 'ended'), gaveUp]);
    }, method);
    expect(outcome).toBe('ended');
    expect(servers.edge.refused).toBe(2);
    // The refused batches go to the next page (an hour is longer than a page retries); the held one is kept.
    const stored = await storedBodies(page);
    expect([stored.includes('big-0'), stored.includes('big-1')]).toEqual([true, true]);
    if (method === 'flush') {
      await page.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
      await expect.poll(() => storedBodies(page)).toContain('big-2');
    }
  });
}

test('a 400 is final: the batch is dropped after its one request, and later batches go on', async ({
  page,
  servers,
}) => {
  await sendRefused(page, servers, '/bad', 'rejected', 400);
  await sendSpan(page, 'accepted');
  // Longer than the first retry's backoff (at most 1 s): a retry would have reached the edge, which now accepts.
  await page.waitForTimeout(2_500);
  expect(servers.edge.refused).toBe(1);
  expect(servers.edge.spans().filter((s) => s.name === 'accepted')).toHaveLength(1);
  expect(servers.edge.spans().filter((s) => s.name === 'rejected')).toHaveLength(0);
  expect(await storedBodies(page)).not.toContain('rejected');
});
