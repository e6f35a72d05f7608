/**
 * A page the browser restores from its back/forward cache is a new visit, as mature RUM agents count it: the
 * agent starts a new page view, with its `page_view` span. Playwright launches Chromium without that cache;
 * this file takes the switch off.
 */
import { chromiumLaunchOptions } from '../../../playwright.shared.ts';
import { expect, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type ReceivedSpan, waitFor } from './support/servers.ts';

test.use({ launchOptions: { ...chromiumLaunchOptions, ignoreDefaultArgs: ['--disable-back-forward-cache'] } });

const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

test('a page restored from the back/forward cache starts a new page view, with its page_view span and web vitals', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/cached',
    esmPage({
      script: `
        rum.tracer.startSpan('before-leaving').end();
        await rum.flush();
        // After the agent's own listener, which sees the restore first.
        addEventListener('pageshow', (event) => {
          if (!event.persisted) return;
          rum.tracer.startSpan('after-restore').end();
          rum.flush();
        });`,
    }),
  );
  servers.app.pages.set('/elsewhere', '<!doctype html><title>elsewhere</title><p>elsewhere</p>');
  await page.goto(`${ORIGINS.app}/cached`);
  await expect(page.locator('#status')).toHaveText('ready');
  await waitFor(() => named(servers.edge.spans(), 'before-leaving').length, 10_000, 'the span before leaving');
  // Web vitals are observed after `load`: leave once they report.
  await waitFor(() => named(servers.edge.spans(), 'web_vital.TTFB').length, 10_000, 'the first web vital');
  await page.goto(`${ORIGINS.app}/elsewhere`);
  // A page restored from the cache fires no `load`.
  await page.goBack({ waitUntil: 'commit' });
  const [before, after] = await waitFor(
    () => {
      const s = servers.edge.spans();
      return named(s, 'after-restore').length
        ? [named(s, 'before-leaving')[0], named(s, 'after-restore')[0]]
        : undefined;
    },
    10_000,
    'the span after the restore (the page came back from the back/forward cache)',
  );
  const viewId = after?.attributes['rumkit.page_view.id'];
  expect(viewId).not.toBe(before?.attributes['rumkit.page_view.id']);
  expect(after?.attributes['rumkit.page.route']).toBe('/cached');
  const pageView = await waitFor(
    () => named(servers.edge.spans(), 'page_view')[0],
    10_000,
    'the page_view span of the restored page',
  );
  expect(pageView.attributes).toMatchObject({
    'rumkit.page_view.id': viewId,
    'rumkit.page.route': '/cached',
    'url.full': `${ORIGINS.app}/cached`,
  });
  // The library measures the restored page again: its reports belong to the new view, not the first.
  const restoredVital = await waitFor(
    () =>
      servers.edge
        .spans()
        .find(
          (s) =>
            s.name.startsWith('web_vital.') &&
            s.attributes['browser.web_vital.navigation_type'] === 'back-forward-cache',
        ),
    10_000,
    'a web vital of the restored page',
  );
  expect(restoredVital.attributes['rumkit.page_view.id']).toBe(viewId);
});
