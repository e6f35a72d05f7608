/**
 * `@rumkit/react` in real Chromium: the Vite-built test app (test/app, React in development mode under
 * StrictMode) sends its spans to a small local receiver standing in for the rumkit edge
 * (support/testServer.ts), and the tests read what arrived there. Each Playwright project runs them against the
 * build of one React line (support/reactLines.ts).
 */
import { test as base, expect, type Page } from '@playwright/test';
import { REACT_19, type ReactLine } from './support/reactLines.ts';
import { PING_DELAY_MS, type ReceivedSpan, startTestServer, type TestServer } from './support/testServer.ts';

const test = base.extend<{ consoleErrors: string[] }, { reactLine: ReactLine; server: TestServer }>({
  reactLine: [REACT_19, { scope: 'worker', option: true }],
  server: [
    async ({ reactLine }, use) => {
      const server = await startTestServer(reactLine.appDist);
      await use(server);
      await server.close();
    },
    { scope: 'worker' },
  ],
  consoleErrors: [
    async ({ page, server }, use) => {
      server.reset();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      await use(errors);
    },
    { auto: true },
  ],
});

async function flush(page: Page): Promise<void> {
  // The agent is a singleton; the probe collected it from the provider.
  await page.evaluate(() => Promise.all([...window.reactTest.agents].map((agent) => agent?.flush())));
}

/** Flushes the agent until the receiver has a span that matches. */
async function receivedSpan(
  server: TestServer,
  page: Page,
  what: string,
  matches: (span: ReceivedSpan) => boolean,
): Promise<ReceivedSpan> {
  await expect
    .poll(async () => {
      await flush(page);
      return server.spans().some(matches);
    }, what)
    .toBe(true);
  return server.spans().find(matches) as ReceivedSpan;
}

const spanNamed = (server: TestServer, page: Page, name: string) =>
  receivedSpan(server, page, `a span named ${name}`, (s) => s.name === name);

/** Clicks the app's traced-work button and waits until its fetch has answered. */
async function runTracedWork(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Run traced work' }).click();
  await expect(page.locator('#work-status')).toHaveText('done');
}

const isPing = (span: ReceivedSpan) => String(span.attributes['url.full']).endsWith('/api/ping');

// React Router 7 says its version, 8 only its major.
const major = (version: string | undefined) => version?.split('.')[0];

test('the page runs on the React, React DOM and React Router of its line', async ({ page, server, reactLine }) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  const versions = await page.evaluate(() => window.reactTest.versions);
  expect(versions.react).toBe(reactLine.versions.react);
  expect(versions.reactDom).toBe(reactLine.versions.reactDom);
  expect(major(versions.reactRouter)).toBe(major(reactLine.versions.reactRouter));
});

test('the provider starts the agent once under StrictMode and every component gets that agent', async ({
  page,
  server,
  consoleErrors,
}) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  // StrictMode really ran the effects twice, so the provider was rendered and mounted twice.
  await expect.poll(() => page.evaluate(() => window.reactTest.probeEffects)).toBe(2);
  expect(await page.evaluate(() => window.reactTest.agents.size)).toBe(1);
  expect(await page.evaluate(() => [...window.reactTest.agents][0] !== undefined)).toBe(true);

  await runTracedWork(page);
  await receivedSpan(server, page, 'the fetch span of /api/ping', isPing);
  // A second agent would instrument fetch twice (two CLIENT spans per request) or say so on the console.
  const pings = server.spans().filter(isPing);
  expect(pings).toHaveLength(1);
  expect(consoleErrors.filter((text) => text.includes('rumkit'))).toEqual([]);
});

test("a provider inside another warns that its config is ignored, and its children get the page's agent", async ({
  page,
  server,
}) => {
  const warnings: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  await page.goto(`${server.url}/nested`);
  await expect(page.getByRole('heading', { name: 'Nested' })).toBeVisible();
  expect(warnings).toContainEqual(expect.stringContaining('rumkit: a nested RumkitProvider; its config is ignored'));
  // Recorded through the one agent there is.
  await receivedSpan(server, page, 'the span of Nested opening', (s) => s.attributes['test.screen'] === 'Nested');
  expect(await page.evaluate(() => window.reactTest.agents.size)).toBe(1);
});

test('a provider mounted again right after shutdown() starts a new agent, which records', async ({ page, server }) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  await expect.poll(() => page.evaluate(() => window.reactTest.probeEffects)).toBe(2);
  await page.evaluate(async () => {
    const [first] = window.reactTest.agents;
    // Not awaited first, as in an effect's cleanup: the remounted provider must not get the stopping agent.
    const stopping = first?.shutdown();
    window.reactTest.agents.clear();
    window.reactTest.remount();
    await stopping;
  });
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  await expect.poll(() => page.evaluate(() => window.reactTest.agents.size)).toBe(1);

  await runTracedWork(page);
  // The stopped agent instruments nothing: only a new one records the fetch.
  await receivedSpan(server, page, 'the fetch span of /api/ping', isPing);
  expect(server.spans().filter(isPing)).toHaveLength(1);
});

test("a provider given the zone entry's init starts that agent, whose span stays active after a timer", async ({
  page,
  server,
}) => {
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${server.url}/zone.html`);
  await expect.poll(() => page.evaluate(() => window.reactTest.probeEffects)).toBe(2);
  await page.getByRole('button', { name: 'Run work after a timer' }).click();
  await expect(page.locator('#work-status')).toHaveText('done');
  const ping = await receivedSpan(server, page, 'the fetch span of /api/ping', isPing);
  const awaited = server.spans().find((s) => s.name === 'test.awaited');
  expect(ping.parentSpanId, 'the fetch after the timer is the span’s child').toBe(awaited?.spanId);
  expect(ping.traceId).toBe(awaited?.traceId);
  expect(await page.evaluate(() => window.reactTest.agents.size)).toBe(1);
  expect(consoleErrors.filter((text) => text.includes('rumkit'))).toEqual([]);
});

test('a hook-made span is the child of the active span and the parent of the fetch it starts', async ({
  page,
  server,
}) => {
  await page.goto(server.url);
  await runTracedWork(page);
  const inner = await spanNamed(server, page, 'test.inner');
  const outer = server.spans().find((s) => s.name === 'test.outer');
  const ping = await receivedSpan(server, page, 'the fetch span of /api/ping', isPing);

  expect(outer?.parentSpanId ?? '').toBe('');
  expect(inner.traceId).toBe(outer?.traceId);
  expect(inner.parentSpanId).toBe(outer?.spanId);
  expect(inner.attributes['test.step']).toBe('ping');
  expect(ping.kind, 'the fetch span is kind CLIENT').toBe(3);
  expect(ping.traceId).toBe(inner.traceId);
  expect(ping.parentSpanId).toBe(inner.spanId);
  // The span ends when the work's promise settles (the ping takes PING_DELAY_MS), not when it was returned.
  const innerMs = Number(BigInt(inner.endTimeUnixNano) - BigInt(inner.startTimeUnixNano)) / 1e6;
  expect(innerMs).toBeGreaterThanOrEqual(PING_DELAY_MS);
});

test('a render error is recorded with its component stack and the boundary shows its fallback', async ({
  page,
  server,
}) => {
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Break', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Fallback: render failed on purpose');
  // The rest of the app still works.
  await expect(page.getByRole('button', { name: 'Run traced work' })).toBeVisible();

  // React 18 in development also dispatches the caught error to window's error listeners (once more when it
  // retries the render), so the agent records it as uncaught too, without a component stack; production does not.
  const exception = await receivedSpan(
    server,
    page,
    "the boundary's exception span",
    (s) => s.name === 'exception' && s.events.some((e) => e.attributes['react.component_stack'] !== undefined),
  );
  expect(exception.status?.code, 'status ERROR').toBe(2);
  const event = exception.events.find((e) => e.name === 'exception');
  expect(event?.attributes['exception.type']).toBe('Error');
  expect(event?.attributes['exception.message']).toBe('render failed on purpose');
  expect(String(event?.attributes['exception.stacktrace'])).toContain('Explode');
  expect(String(event?.attributes['react.component_stack'])).toMatch(
    /Explode[\s\S]*RumkitErrorBoundary[\s\S]*Breakable/,
  );
  expect(exception.attributes['session.id']).toEqual(expect.any(String));
  const home = await receivedSpan(
    server,
    page,
    'the span of Home opening',
    (s) => s.attributes['test.screen'] === 'Home',
  );
  expect(exception.attributes['rumkit.page_view.id']).toBe(home.attributes['rumkit.page_view.id']);
});

test('a boundary around the whole app, above the provider, records through the agent the provider started', async ({
  page,
  server,
}) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  await page.getByRole('button', { name: 'Break the app' }).click();
  await expect(page.getByRole('alert')).toHaveText('The app failed');
  const exception = await receivedSpan(
    server,
    page,
    "the outer boundary's exception span",
    (s) =>
      s.name === 'exception' &&
      s.events.some(
        (e) =>
          e.attributes['exception.message'] === 'the whole app failed on purpose' &&
          String(e.attributes['react.component_stack']).includes('BreakTheApp'),
      ),
  );
  expect(exception.status?.code, 'status ERROR').toBe(2);
});

test('a thrown value that is not an Error is recorded as it is, not as Error: [object Object]', async ({
  page,
  server,
}) => {
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Break with an object' }).click();
  await expect(page.getByRole('alert')).toHaveText('Fallback: [object Object]');
  const exception = await receivedSpan(
    server,
    page,
    "the boundary's exception span",
    (s) => s.name === 'exception' && s.events.some((e) => e.attributes['react.component_stack'] !== undefined),
  );
  const event = exception.events.find((e) => e.name === 'exception');
  expect(event?.attributes['exception.type']).toBe('object');
  expect(event?.attributes['exception.message']).toBe('{"code":42,"reason":"quota"}');
  expect(String(event?.attributes['react.component_stack'])).toMatch(/Explode[\s\S]*RumkitErrorBoundary/);
});

test('a data router on the URL hash: useReactRouterPageViews starts a page view per route, the path unchanged', async ({
  page,
  server,
}) => {
  await page.goto(`${server.url}/hash.html`);
  await expect(page.getByRole('heading', { name: 'Hash home' })).toBeVisible();
  await runTracedWork(page);
  const onHome = await spanNamed(server, page, 'test.inner');

  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  expect(await page.evaluate(() => [location.pathname, location.hash])).toEqual(['/hash.html', '#/settings/profile']);
  server.reset();
  await runTracedWork(page);
  const onSettings = await spanNamed(server, page, 'test.inner');

  expect(onHome.attributes['rumkit.page.route']).toBe('/');
  expect(onSettings.attributes['rumkit.page.route']).toBe('/settings/:tab');
  expect(onSettings.attributes['rumkit.page_view.id']).not.toBe(onHome.attributes['rumkit.page_view.id']);
  expect(onSettings.attributes['session.id']).toBe(onHome.attributes['session.id']);
});

test('a route change starts a new page view named by the route template', async ({ page, server }) => {
  const screenOpened = (title: string) =>
    receivedSpan(server, page, `the span of ${title} opening`, (s) => s.attributes['test.screen'] === title);
  await page.goto(server.url);
  const homeOpened = await screenOpened('Home');
  await page.getByRole('button', { name: 'Run traced work' }).click();
  const onHome = await spanNamed(server, page, 'test.inner');

  await page.getByRole('link', { name: 'Document 42' }).click();
  await expect(page.getByRole('heading', { name: 'Document 42' })).toBeVisible();
  const documentOpened = await screenOpened('Document 42');
  server.reset();
  await page.getByRole('button', { name: 'Run traced work' }).click();
  const onDocument = await spanNamed(server, page, 'test.inner');

  expect(onHome.attributes['rumkit.page.route']).toBe('/');
  expect(onDocument.attributes['rumkit.page.route']).toBe('/docs/:id');
  expect(onDocument.attributes['rumkit.page_view.id']).not.toBe(onHome.attributes['rumkit.page_view.id']);
  // One page view per route: a span made as a page mounted (before the route was reported) belongs to the
  // same view as later ones, so neither StrictMode's second effect run nor the router's report started another.
  expect(homeOpened.attributes['rumkit.page_view.id']).toBe(onHome.attributes['rumkit.page_view.id']);
  expect(documentOpened.attributes['rumkit.page_view.id']).toBe(onDocument.attributes['rumkit.page_view.id']);
  expect(onDocument.attributes['session.id']).toBe(onHome.attributes['session.id']);
});

test('a redirect as a route renders (<Navigate>) names each page view by its own route', async ({ page, server }) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  await page.getByRole('link', { name: 'Moved' }).click();
  await expect(page.getByRole('heading', { name: 'Document 7' })).toBeVisible();
  const opened = await receivedSpan(
    server,
    page,
    'the span of document 7 opening',
    (s) => s.attributes['test.screen'] === 'Document 7',
  );
  expect(opened.attributes['rumkit.page.route']).toBe('/docs/:id');
  await receivedSpan(
    server,
    page,
    'the page view of /docs/7',
    (s) => s.name === 'page_view' && String(s.attributes['url.full']).endsWith('/docs/7'),
  );
  const views = server.spans().filter((s) => s.name === 'page_view');
  expect(
    views.map((s) => [new URL(String(s.attributes['url.full'])).pathname, s.attributes['rumkit.page.route']]),
  ).toEqual([
    ['/moved', '/moved'],
    ['/docs/7', '/docs/:id'],
  ]);
  expect(views[1]?.attributes['rumkit.page_view.id']).toBe(opened.attributes['rumkit.page_view.id']);
});

test('descendant RumkitRoutes add no page view: a navigation is one, named by the outer template', async ({
  page,
  server,
}) => {
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Home' })).toBeVisible();
  await page.getByRole('link', { name: 'Guide intro' }).click();
  await expect(page.getByRole('heading', { name: 'Guide intro' })).toBeVisible();
  const opened = await receivedSpan(
    server,
    page,
    'the span of the guide opening',
    (s) => s.attributes['test.screen'] === 'Guide intro',
  );
  server.reset();
  await page.getByRole('button', { name: 'Run traced work' }).click();
  const later = await spanNamed(server, page, 'test.inner');

  expect(later.attributes['rumkit.page.route']).toBe('/guide/*');
  // The inner routes reporting too would have named the agent's page view '/guide/intro' before the outer
  // ones started another: the screen's first span would belong to a different view than later work.
  expect(opened.attributes['rumkit.page_view.id']).toBe(later.attributes['rumkit.page_view.id']);
});
