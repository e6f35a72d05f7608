/**
 * `shutdown()` ends the agent for the page: nothing it installed records afterwards, web vitals included
 * (the library cannot remove its observers). It ends even when the edge never answers. A later `init()` starts
 * an agent that works as the first did, also for code that reaches the tracer through the global
 * OpenTelemetry API (as a page's own `@opentelemetry/api` copy does). Spans go to a test receiver standing in
 * for the rumkit edge.
 */
import type { RumkitAgent } from '../src/index.ts';
import { expect, openLoadedPage, STORED_BODY_KEY, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type ReceivedSpan, waitFor } from './support/servers.ts';

test('after shutdown() nothing is recorded; init() again starts an agent that records, globally too', async ({
  page,
  servers,
  pageErrors,
}) => {
  servers.app.pages.set(
    '/shutdown',
    esmPage({
      script: `
        // What a page's own copy of @opentelemetry/api reads: the globals registered under this symbol.
        const globalTracer = (name) => globalThis[Symbol.for('opentelemetry.js.api.1')].trace.getTracer(name);
        globalTracer('page').startSpan('before-shutdown').end();
        await rum.shutdown();
        await fetch(API + '/while-stopped');
        rum.tracer.startSpan('while-stopped').end();
        dispatchEvent(new ErrorEvent('error', { error: new Error('while stopped') }));
        const again = init({ endpoint: ${JSON.stringify(ORIGINS.edge)}, apiKey: 'pk_test', serviceName: 'test-web-again' });
        window.rum = again;
        globalTracer('page').startSpan('after-init-again').end();
        await fetch(API + '/after-init-again');
        await again.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/shutdown`);
  await expect(page.locator('#status')).toHaveText('ready');

  // Document load's resource spans carry `url.full` too.
  const isFetchOf = (path: string) => (s: ReceivedSpan) =>
    s.scope === '@opentelemetry/instrumentation-fetch' && String(s.attributes['url.full']).endsWith(path);
  await waitFor(() => servers.edge.spans().find(isFetchOf('/after-init-again')), 10_000, 'the second agent’s fetch');
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'after-init-again'), 10_000, 'the global span');
  await page.waitForTimeout(1_500);

  const spans = servers.edge.spans();
  expect(spans.filter((s) => s.name === 'before-shutdown')).toHaveLength(1);
  expect(spans.filter(isFetchOf('/while-stopped'))).toEqual([]);
  expect(spans.filter((s) => s.name === 'while-stopped' || s.name === 'exception')).toEqual([]);
  // One fetch span: the first agent's fetch wrapper is gone, not stacked under the second's.
  expect(spans.filter(isFetchOf('/after-init-again'))).toHaveLength(1);
  const again = spans.find((s) => s.name === 'after-init-again');
  expect(again?.resource['service.name']).toBe('test-web-again');
  expect(pageErrors).toEqual([]);
});

test("init() and shutdown() again and again after load: one fetch wrapper, the document's load and vitals reported once", async ({
  page,
  servers,
  pageErrors,
}) => {
  await openLoadedPage(
    page,
    servers,
    '/cycles',
    esmPage({ before: `window.initAgain = (await import('/dist/index.js')).init;` }),
  );
  await waitFor(() => servers.edge.spans().some((s) => s.name === 'web_vital.TTFB'), 10_000, 'the first TTFB');
  const wrappers = await page.evaluate(async (edge) => {
    const page = window as unknown as { rum: RumkitAgent; initAgain: typeof import('../src/index.ts').init };
    const first = fetch;
    const same: boolean[] = [];
    for (let cycle = 1; cycle <= 3; cycle++) {
      await page.rum.shutdown();
      page.rum = page.initAgain({ endpoint: edge, apiKey: 'pk_test', serviceName: `test-web-${cycle}` });
      same.push(fetch === first);
      // Past the start of what an agent starts after load.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await fetch('/after-cycles');
    await new Promise((resolve) => setTimeout(resolve, 400));
    await page.rum.flush();
    return same;
  }, ORIGINS.edge);
  expect(wrappers).toEqual([true, true, true]);
  const fetchSpans = await waitFor(
    () => {
      const found = servers.edge.spans().filter((s) => String(s.attributes['url.full']).endsWith('/after-cycles'));
      return found.length ? found : undefined;
    },
    10_000,
    'the last agent’s fetch span',
  );
  await page.waitForTimeout(1_000);
  expect(fetchSpans.map((s) => s.resource['service.name'])).toEqual(['test-web-3']);
  const count = (name: string) => servers.edge.spans().filter((s) => s.name === name).length;
  expect([count('documentLoad'), count('web_vital.TTFB'), count('web_vital.FCP')]).toEqual([1, 1, 1]);
  // LCP, reported at page hide, goes to the agent running then.
  await page.goto('about:blank');
  const lcp = await waitFor(() => servers.edge.spans().find((s) => s.name === 'web_vital.LCP'), 10_000, 'the LCP span');
  expect(lcp.resource['service.name']).toBe('test-web-3');
  expect(pageErrors).toEqual([]);
});

test('shutdown() ends when the edge never answers, and a later init() starts an agent', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
  servers.app.pages.set('/unanswered', esmPage());
  await page.goto(`${ORIGINS.app}/unanswered`);
  await expect(page.locator('#status')).toHaveText('ready');
  servers.edge.answerDelayMs = 60_000;
  const outcome = await page.evaluate(async () => {
    const { rum } = window as unknown as { rum: RumkitAgent };
    rum.tracer.startSpan('unanswered').end();
    // Longer than the agent's request timeout, far shorter than the edge's silence.
    const gaveUp = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 15_000));
    return Promise.race([rum.shutdown().then(() => 'ended'), gaveUp]);
  });
  expect(outcome).toBe('ended');
  servers.edge.answerDelayMs = 0;
  await page.evaluate(async (endpoint) => {
    const { init } = (await import(`${location.origin}/dist/index.js`)) as typeof import('../src/index.ts');
    const again = init({ endpoint, apiKey: 'pk_test', serviceName: 'test-web-again' });
    again.tracer.startSpan('after-init-again').end();
    await again.flush();
  }, ORIGINS.edge);
  const again = await waitFor(
    () => servers.edge.spans().find((s) => s.name === 'after-init-again'),
    10_000,
    'the second agent’s span',
  );
  expect(again.resource['service.name']).toBe('test-web-again');
  expect(errors.filter((e) => e.includes('init() called twice'))).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('init() while shutdown() is still flushing starts a new agent, whose global registration stays', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
  servers.app.pages.set('/restart', esmPage());
  await page.goto(`${ORIGINS.app}/restart`);
  await expect(page.locator('#status')).toHaveText('ready');
  // The first agent's last export waits for the edge, so its shutdown() is pending while the page starts again.
  servers.edge.answerDelayMs = 2_000;
  const sameAgent = await page.evaluate(async (endpoint) => {
    const { init } = (await import(`${location.origin}/dist/index.js`)) as typeof import('../src/index.ts');
    const { rum } = window as unknown as { rum: RumkitAgent };
    rum.tracer.startSpan('before-restart').end();
    const stopping = rum.shutdown();
    const again = init({ endpoint, apiKey: 'pk_test', serviceName: 'test-web-again' });
    again.tracer.startSpan('during-shutdown').end();
    await stopping;
    const globalTracer = (name: string) =>
      (globalThis as unknown as Record<symbol, { trace: { getTracer(name: string): RumkitAgent['tracer'] } }>)[
        Symbol.for('opentelemetry.js.api.1')
      ]?.trace.getTracer(name);
    globalTracer('page')?.startSpan('global-after-shutdown').end();
    await again.flush();
    return again === rum;
  }, ORIGINS.edge);
  servers.edge.answerDelayMs = 0;
  expect(sameAgent).toBe(false);
  const named = (name: string) => () => servers.edge.spans().find((s) => s.name === name);
  const first = await waitFor(named('before-restart'), 10_000, 'the first agent’s span');
  const during = await waitFor(named('during-shutdown'), 10_000, 'the new agent’s span');
  const global = await waitFor(named('global-after-shutdown'), 10_000, 'the global tracer’s span');
  expect(first.resource['service.name']).toBe('test-web');
  expect(during.resource['service.name']).toBe('test-web-again');
  expect(global.resource['service.name']).toBe('test-web-again');
  expect(errors.filter((e) => e.includes('init() called twice'))).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test("beside another OpenTelemetry setup registered first, the agent records, and shutdown() leaves that setup's provider", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/other-otel',
    esmPage({
      // What @opentelemetry/api 1.x keeps for the page's own setup, which registered its tracer provider first.
      before: `const GLOBAL = Symbol.for('opentelemetry.js.api.1');
        const theirs = { getTracer: () => ({ startSpan: () => ({ end() {} }) }) };
        globalThis[GLOBAL] = { version: '1.9.0', trace: theirs };`,
      script: `rum.tracer.startSpan('ours').end();
        await rum.shutdown();
        document.getElementById('status').dataset.kept = String(globalThis[GLOBAL].trace === theirs);`,
    }),
  );
  await page.goto(`${ORIGINS.app}/other-otel`);
  await expect(page.locator('#status')).toHaveAttribute('data-kept', 'true');
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'ours'), 10_000, "the agent's own span");
});

test('shutdown() before load leaves nothing to run after it: no stored batch sent, no rate asked', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/early-shutdown',
    esmPage({
      before: `localStorage.setItem(${JSON.stringify(STORED_BODY_KEY)}, JSON.stringify({ resourceSpans: [] }));`,
      script: 'await rum.shutdown();',
    }),
  );
  await page.goto(`${ORIGINS.app}/early-shutdown`);
  await expect(page.locator('#status')).toHaveText('ready');
  await page.waitForLoadState('load');
  await page.waitForTimeout(1_500);
  expect(servers.edge.configAskedAt).toEqual([]);
  expect(servers.edge.requests).toEqual([]);
  expect(await page.evaluate((key) => localStorage.getItem(key), STORED_BODY_KEY)).not.toBeNull();
});

test('web vitals reported after shutdown() record nothing, not even activity in the session', async ({
  page,
  servers,
}) => {
  // Document load has run: so have the web-vitals observers, which report LCP and CLS when the page hides.
  await openLoadedPage(page, servers, '/vitals-after', esmPage({ head: '<style>#title { font-size: 64px }</style>' }));
  await page.evaluate(async () => {
    await (window as unknown as { rum: RumkitAgent }).rum.shutdown();
    localStorage.removeItem('rumkit.session');
  });
  // The session writes its activity at most every 5 s.
  await page.waitForTimeout(5_100);
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => localStorage.getItem('rumkit.session'))).toBeNull();
});
