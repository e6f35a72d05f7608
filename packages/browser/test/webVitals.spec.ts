/**
 * Web vitals in a real Chromium: LCP, CLS, FCP and TTFB on load, INP after a real click, each as a
 * `web_vital.<NAME>` span reaching a test receiver that stands in for the rumkit edge. LCP, CLS and INP are
 * reported when the page is hidden, so the test navigates away and the last spans leave by beacon; they carry
 * the page view they measured, even after a single-page app has moved to another route.
 */
import type { Tracer } from '@opentelemetry/api';
import { expect, openLoadedPage, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type ReceivedSpan, waitFor } from './support/servers.ts';

test('LCP, CLS, FCP and TTFB on load and INP after a click arrive as web_vital spans', async ({ page, servers }) => {
  // The document-load span shows the deferred chunk (web vitals) is running.
  await openLoadedPage(
    page,
    servers,
    '/vitals',
    esmPage({
      head: '<style>#title { font-size: 64px } #shift { height: 200px; background: #ccc }</style>',
      script: `
        document.getElementById('button').addEventListener('click', () => {
          const until = performance.now() + 150; // a slow handler: the interaction has a measurable INP
          while (performance.now() < until);
          document.getElementById('status').textContent = 'clicked';
        });
        setTimeout(() => {
          // Content pushed down without user input: a layout shift.
          document.body.insertAdjacentHTML('afterbegin', '<div id="shift"></div>');
        }, 200);`,
    }),
  );
  await page.click('#button');
  await expect(page.locator('#status')).toHaveText('clicked');
  // web-vitals processes interactions in an idle callback (at most 1 s later); one still queued when the
  // page hides is counted after its INP report, so give it that second.
  await page.waitForTimeout(1_200);
  await page.goto('about:blank');

  const vitals = await waitFor(
    () => {
      const byName = new Map<string, ReceivedSpan>();
      for (const span of servers.edge.spans()) if (span.name.startsWith('web_vital.')) byName.set(span.name, span);
      return ['LCP', 'CLS', 'FCP', 'TTFB', 'INP'].every((n) => byName.has(`web_vital.${n}`)) ? byName : undefined;
    },
    15_000,
    'five web vitals',
  );

  for (const [name, span] of vitals) {
    expect(span.attributes['browser.web_vital.name']).toBe(name.slice('web_vital.'.length));
    expect(typeof span.attributes['browser.web_vital.value']).toBe('number');
    expect(['good', 'needs-improvement', 'poor']).toContain(span.attributes['browser.web_vital.rating']);
    expect(span.attributes['browser.web_vital.id']).toMatch(/^v\d-/);
    expect(span.attributes['browser.web_vital.navigation_type']).toBe('navigate');
    expect(span.attributes['rumkit.page_view.id']).toMatch(/^[0-9a-f]{16}$/);
  }
  expect(vitals.get('web_vital.INP')?.attributes).toMatchObject({
    'browser.web_vital.attribution.interaction_type': 'pointer',
    'browser.web_vital.attribution.interaction_target': '#button',
  });
  expect(Number(vitals.get('web_vital.INP')?.attributes['browser.web_vital.value'])).toBeGreaterThanOrEqual(150);
  // The interaction's phases: the handler's 150 ms are its processing.
  const inp = vitals.get('web_vital.INP')?.attributes ?? {};
  expect(Number(inp['browser.web_vital.attribution.processing_duration'])).toBeGreaterThanOrEqual(140);
  for (const phase of ['input_delay', 'presentation_delay']) {
    expect(typeof inp[`browser.web_vital.attribution.${phase}`], phase).toBe('number');
  }
  expect(Number(vitals.get('web_vital.CLS')?.attributes['browser.web_vital.value'])).toBeGreaterThan(0);
  expect(vitals.get('web_vital.CLS')?.attributes['browser.web_vital.attribution.largest_shift_target']).toBeTruthy();
  expect(vitals.get('web_vital.LCP')?.attributes['browser.web_vital.attribution.target']).toBe('#title');
  expect(vitals.get('web_vital.INP')?.request.via).toBe('beacon');
});

test("an image's LCP carries the image's URL and element", async ({ page, servers }) => {
  await openLoadedPage(page, servers, '/hero', esmPage({ head: '<img id="hero" src="/hero.svg" alt="">' }));
  await page.goto('about:blank');
  const lcp = await waitFor(() => servers.edge.spans().find((s) => s.name === 'web_vital.LCP'), 15_000, 'the LCP span');
  expect(lcp.attributes).toMatchObject({
    'browser.web_vital.attribution.target': '#hero',
    'browser.web_vital.attribution.url': `${ORIGINS.app}/hero.svg`,
  });
});

test('LCP and CLS reported at page hide after an SPA route change carry the page view they measured', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/measured',
    esmPage({
      head: '<style>#title { font-size: 64px } #shift { height: 200px; background: #ccc }</style>',
      script: `setTimeout(() => document.body.insertAdjacentHTML('afterbegin', '<div id="shift"></div>'), 200);`,
    }),
  );
  await page.goto(`${ORIGINS.app}/measured`);
  const documentLoad = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'documentLoad'),
    15_000,
    'documentLoad span',
  );
  // The route changes without user input (which would end LCP early); LCP and CLS wait for the page to hide.
  await page.evaluate(async () => {
    history.pushState({}, '', '/next-route');
    const { rum } = window as unknown as { rum: { tracer: Tracer; flush(): Promise<void> } };
    rum.tracer.startSpan('after-route').end();
    await rum.flush();
  });
  const afterRoute = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'after-route'),
    10_000,
    'the span of the new route',
  );
  await page.goto('about:blank');

  const vitals = await waitFor(
    () => {
      const spans = servers.edge.spans();
      const found = ['LCP', 'CLS'].map((name) => spans.find((s) => s.name === `web_vital.${name}`));
      return found.every(Boolean) ? (found as ReceivedSpan[]) : undefined;
    },
    15_000,
    'LCP and CLS',
  );
  const firstView = documentLoad.attributes['rumkit.page_view.id'];
  expect(afterRoute.attributes['rumkit.page_view.id']).not.toBe(firstView);
  for (const vital of vitals) {
    expect(vital.request.via).toBe('beacon');
    expect(vital.attributes['rumkit.page_view.id']).toBe(firstView);
    expect(vital.attributes['rumkit.page.route']).toBe('/measured');
  }
});
