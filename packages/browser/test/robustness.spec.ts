/**
 * The agent must never break the host page: a throwing `beforeSend`, a full `localStorage`, a browser
 * without `PerformanceObserver` and a bad config each leave the page working. Spans go to a test receiver
 * standing in for the rumkit edge.
 */
import { expect, flushAgent, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, waitFor } from './support/servers.ts';

/** The page's own work after `init()`: it must run to the end whatever the agent met. */
const PAGE_WORK = `
  const response = await fetch('/api/ping');
  document.getElementById('status').dataset.pong = String((await response.json()).pong);
  rum.tracer.startSpan('page-work').end();
  rum.recordError(new Error('handled'));
  rum.setUser({ id: 'u' });
  rum.pageView('/x');`;

test('a throwing beforeSend drops spans, says so once, and the page works', async ({ page, servers, pageErrors }) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  servers.app.pages.set(
    '/before-send',
    esmPage({
      config: `beforeSend: (span) => { if (span.name !== 'kept') throw new Error('scrubber bug'); span.attributes.push({ key: 'scrubbed', value: { boolValue: true } }); return span; }`,
      script: `${PAGE_WORK}\n rum.tracer.startSpan('kept').end(); await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/before-send`);
  await expect(page.locator('#status')).toHaveText('ready');
  await expect(page.locator('#status')).toHaveAttribute('data-pong', 'true');
  const kept = await waitFor(() => servers.edge.spans().find((s) => s.name === 'kept'), 10_000, 'the kept span');
  expect(kept.attributes.scrubbed).toBe(true);
  expect(servers.edge.spans().map((s) => s.name)).toEqual(['kept']);
  expect(errors.filter((e) => e.includes('beforeSend threw'))).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('a full localStorage leaves the page working and spans flowing', async ({ page, servers, pageErrors }) => {
  servers.app.pages.set(
    '/full',
    esmPage({
      before: `
        // Fill this origin's storage to the quota before the agent starts.
        try { for (let i = 0; ; i++) localStorage.setItem('fill' + i, 'x'.repeat(1 << 20)); } catch {}
        try { for (let i = 0; ; i++) localStorage.setItem('small' + i, 'x'.repeat(1024)); } catch {}`,
      script: `${PAGE_WORK}\n await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/full`);
  await expect(page.locator('#status')).toHaveText('ready');
  await expect(page.locator('#status')).toHaveAttribute('data-pong', 'true');
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'page-work'), 10_000, 'the page-work span');
  // The edge is down while the page leaves: the agent tries to store the batch and cannot.
  servers.edge.fail(1_000, 503);
  await page.evaluate(() =>
    (window as unknown as { rum: { tracer: { startSpan(n: string): { end(): void } } } }).rum.tracer
      .startSpan('late')
      .end(),
  );
  await flushAgent(page);
  await page.goto(`${ORIGINS.app}/full`);
  await expect(page.locator('#status')).toHaveAttribute('data-pong', 'true');
  expect(pageErrors).toEqual([]);
});

// instrumentation-fetch switches itself off without PerformanceObserver (it takes such a browser for a
// server), so there are no fetch spans there; the page and the other captures must carry on.
test('a browser without PerformanceObserver still runs the page and sends its other spans', async ({
  page,
  servers,
  pageErrors,
}) => {
  await page.addInitScript(() => {
    delete (window as { PerformanceObserver?: unknown }).PerformanceObserver;
  });
  servers.app.pages.set('/no-observer', esmPage({ script: `${PAGE_WORK}\n await rum.flush();` }));
  await page.goto(`${ORIGINS.app}/no-observer`);
  await expect(page.locator('#status')).toHaveText('ready');
  await expect(page.locator('#status')).toHaveAttribute('data-pong', 'true');
  await flushAgent(page);
  const spans = await waitFor(
    () => {
      const s = servers.edge.spans();
      return s.some((x) => x.name === 'documentLoad') ? s : undefined;
    },
    15_000,
    'the documentLoad span',
  );
  expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['page-work', 'exception', 'web_vital.TTFB']));
  expect(pageErrors).toEqual([]);
});

test('a bad config is reported once, naming the key, and yields an inert agent', async ({
  page,
  servers,
  pageErrors,
}) => {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  servers.app.pages.set(
    '/bad-config',
    esmPage({ config: `sampleRate: 2`, script: `${PAGE_WORK}\n await rum.flush();` }),
  );
  await page.goto(`${ORIGINS.app}/bad-config`);
  await expect(page.locator('#status')).toHaveText('ready');
  await expect(page.locator('#status')).toHaveAttribute('data-pong', 'true');
  expect(errors).toEqual(['rumkit: config.sampleRate must be a number from 0 to 1']);
  await page.waitForTimeout(300);
  expect(servers.edge.requests).toEqual([]);
  expect(pageErrors).toEqual([]);
});
