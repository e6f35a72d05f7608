/**
 * What the agent captures, checked on what reaches a test receiver standing in for the rumkit edge
 * (test/support/servers.ts): each capture's span, attributes and parent, trace-context propagation, and
 * the page-view and session attributes every span carries.
 */

import type { KeyValue } from '@rumkit/otlp';
import { expect, flushAgent, RATE_KEY, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, type ReceivedSpan, type Servers, waitFor } from './support/servers.ts';

const BACKEND_TRACE = '0af7651916cd43dd8448eb211c80319c';
const BACKEND_SPAN = 'b7ad6b7169203331';

const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

/** Every span the edge has received, once the one named `last`, which the page's script sends last, is among them. */
const spansThrough = (servers: Servers, last: string) =>
  waitFor(
    () => {
      const s = servers.edge.spans();
      return named(s, last).length ? s : undefined;
    },
    10_000,
    'the test spans',
  );

test('document load spans are parented to the backend trace from <meta name="traceparent">', async ({
  page,
  servers,
  pageErrors,
}) => {
  servers.app.pages.set(
    '/doc',
    esmPage({ head: `<meta name="traceparent" content="00-${BACKEND_TRACE}-${BACKEND_SPAN}-01">` }),
  );
  await page.goto(`${ORIGINS.app}/doc`);
  await flushAgent(page);
  const spans = await waitFor(
    () => {
      const s = servers.edge.spans();
      return named(s, 'documentLoad').length && named(s, 'resourceFetch').length ? s : undefined;
    },
    15_000,
    'documentLoad and resourceFetch spans',
  );
  const [load] = named(spans, 'documentLoad');
  const [fetchSpan] = named(spans, 'documentFetch');
  expect(load?.traceId).toBe(BACKEND_TRACE);
  expect(load?.parentSpanId).toBe(BACKEND_SPAN);
  expect(load?.attributes['url.full']).toBe(`${ORIGINS.app}/doc`);
  expect(fetchSpan?.parentSpanId).toBe(load?.spanId);
  const resource = named(spans, 'resourceFetch').find((s) =>
    String(s.attributes['url.full']).includes('/dist/index.js'),
  );
  expect(resource?.parentSpanId).toBe(load?.spanId);
  expect(pageErrors).toEqual([]);
});

test("a client-side redirect before load leaves the document's load and its web vitals with the view it loaded", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/start',
    esmPage({ script: `rum.tracer.startSpan('before').end(); history.replaceState({}, '', '/login');` }),
  );
  await page.goto(`${ORIGINS.app}/start`);
  await flushAgent(page);
  const spans = await waitFor(
    () => {
      const s = servers.edge.spans();
      return named(s, 'documentLoad').length && named(s, 'web_vital.TTFB').length && named(s, 'page_view').length
        ? s
        : undefined;
    },
    15_000,
    'documentLoad, TTFB and page_view spans',
  );
  const view = (name: string) => {
    const attributes = named(spans, name)[0]?.attributes ?? {};
    return [attributes['rumkit.page_view.id'], attributes['rumkit.page.route']];
  };
  const first = view('before');
  expect(first[1]).toBe('/start');
  expect(view('documentLoad')).toEqual(first);
  expect(view('documentFetch')).toEqual(first);
  expect(view('web_vital.TTFB')).toEqual(first);
  // The redirect's view is counted by its page_view span; the document's load counts the first.
  expect(view('page_view')[1]).toBe('/login');
  expect(view('page_view')[0]).not.toBe(first[0]);
});

test("every resource of a page with many gets its resourceFetch span under the document's load", async ({
  page,
  servers,
}) => {
  // More resources than the agent makes spans for in one task (RESOURCES_PER_TASK), so the spans come in lots.
  const images = Array.from({ length: 30 }, (_, i) => `<img src="/img-${i}.svg" alt="">`).join('');
  servers.app.pages.set('/many', esmPage({ head: images }));
  await page.goto(`${ORIGINS.app}/many`);
  await flushAgent(page);
  const imageSpans = () =>
    named(servers.edge.spans(), 'resourceFetch').filter((s) =>
      /\/img-\d+\.svg$/.test(String(s.attributes['url.full'])),
    );
  await waitFor(() => imageSpans().length >= 30 || undefined, 15_000, '30 image resourceFetch spans');
  const [load] = named(servers.edge.spans(), 'documentLoad');
  expect(new Set(imageSpans().map((s) => s.attributes['url.full'])).size).toBe(30);
  expect(imageSpans().length).toBe(30);
  expect(new Set(imageSpans().map((s) => s.parentSpanId))).toEqual(new Set([load?.spanId]));
});

test('document load spans follow a Server-Timing traceparent when the page has no meta tag', async ({
  page,
  servers,
}) => {
  servers.app.pages.set('/timing', esmPage());
  const header = `traceparent;desc="00-${BACKEND_TRACE}-${BACKEND_SPAN}-01"`;
  await page.goto(`${ORIGINS.app}/timing?server-timing=${encodeURIComponent(header)}`);
  await flushAgent(page);
  const load = await waitFor(() => named(servers.edge.spans(), 'documentLoad')[0], 15_000, 'documentLoad span');
  expect(load.traceId).toBe(BACKEND_TRACE);
  expect(load.parentSpanId).toBe(BACKEND_SPAN);
});

test("fetch spans are CLIENT spans with stable HTTP attributes; traceparent goes only to listed origins and the page's own", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/fetch',
    esmPage({
      script: `
        window.fetched = Promise.all([fetch(API + '/orders?id=7', { method: 'POST', body: '{}' }), fetch(THIRD_PARTY + '/widget'), fetch('/api/ping')]);
        await window.fetched;`,
    }),
  );
  await page.goto(`${ORIGINS.app}/fetch`);
  await expect(page.locator('#status')).toHaveText('ready');
  await flushAgent(page);
  const spans = await waitFor(
    () => {
      const s = servers.edge.spans().filter((x) => x.name === 'POST' || x.name === 'GET');
      return s.length >= 3 ? s : undefined;
    },
    10_000,
    'three fetch spans',
  );
  const post = spans.find((s) => s.attributes['url.full'] === `${ORIGINS.api}/orders?id=7`);
  expect(post).toMatchObject({ kind: 3 });
  expect(post?.attributes).toMatchObject({
    'http.request.method': 'POST',
    'http.response.status_code': 200,
    'server.address': '127.0.0.1',
  });
  const apiRequest = servers.api.requests.find((h) => h.traceparent);
  expect(apiRequest?.traceparent).toBe(`00-${post?.traceId}-${post?.spanId}-01`);
  expect(apiRequest?.tracestate).toBe('ot=th:0');
  expect(servers.thirdParty.requests).toHaveLength(1);
  expect(servers.thirdParty.requests[0]?.traceparent).toBeUndefined();
  expect(servers.thirdParty.requests[0]?.tracestate).toBeUndefined();
  // The page's own origin is not listed, and gets them all the same (`propagateTraceHeaderCorsUrls`' JSDoc).
  const ping = spans.find((s) => s.attributes['url.full'] === `${ORIGINS.app}/api/ping`);
  expect(servers.app.pings[0]?.traceparent).toBe(`00-${ping?.traceId}-${ping?.spanId}-01`);
  // The agent's own exports never become spans.
  expect(servers.edge.spans().some((s) => String(s.attributes['url.full']).startsWith(ORIGINS.edge))).toBe(false);
});

test('uncaught errors and rejections become exception spans; recordError adds an event to the active span', async ({
  page,
  servers,
  pageErrors,
}) => {
  servers.app.pages.set(
    '/errors',
    esmPage({
      script: `
        setTimeout(() => { throw new TypeError('kaboom'); });
        setTimeout(() => Promise.reject(new RangeError('rejected')));
        rum.tracer.startActiveSpan('checkout', (span) => {
          rum.recordError(new Error('card declined'), { 'app.step': 'payment' });
          span.end();
        });`,
    }),
  );
  await page.goto(`${ORIGINS.app}/errors`);
  await page.waitForTimeout(200);
  await flushAgent(page);
  const spans = await waitFor(
    () => {
      const s = servers.edge.spans();
      return named(s, 'exception').length >= 2 && named(s, 'checkout').length ? s : undefined;
    },
    10_000,
    'exception and checkout spans',
  );
  const events = named(spans, 'exception').map((s) => ({ status: s.status?.code, event: s.events?.[0] }));
  const eventAttributes = events.map((e) => plainEvent(e.event?.attributes));
  expect(events.every((e) => e.status === 2 && e.event?.name === 'exception')).toBe(true);
  expect(eventAttributes).toContainEqual(
    expect.objectContaining({ 'exception.type': 'TypeError', 'exception.message': 'kaboom' }),
  );
  expect(eventAttributes).toContainEqual(
    expect.objectContaining({ 'exception.type': 'RangeError', 'exception.message': 'rejected' }),
  );
  expect(eventAttributes.every((a) => String(a['exception.stacktrace']).length > 0)).toBe(true);
  const [checkout] = named(spans, 'checkout');
  expect(checkout?.events?.map((e) => e.name)).toEqual(['exception']);
  expect(plainEvent(checkout?.events?.[0]?.attributes)).toMatchObject({
    'exception.type': 'Error',
    'exception.message': 'card declined',
    'app.step': 'payment',
  });
  // The page's own two, thrown on purpose; nothing from the agent.
  expect(pageErrors.splice(0).sort()).toEqual(['kaboom', 'rejected']);
});

test('an uncaught error that repeats is recorded 10 times, not every time; other errors still are', async ({
  page,
  servers,
  pageErrors,
}) => {
  servers.app.pages.set(
    '/loop',
    esmPage({
      script: `
        for (let i = 0; i < 40; i++) setTimeout(() => { throw new Error('ResizeObserver loop completed with undelivered notifications.'); });
        for (let i = 0; i < 12; i++) setTimeout(() => Promise.reject(new TypeError('offline ' + (i % 2))));
        setTimeout(() => { throw new RangeError('once'); }, 50);`,
    }),
  );
  await page.goto(`${ORIGINS.app}/loop`);
  await page.waitForTimeout(300);
  await flushAgent(page);
  const messages = await waitFor(
    () => {
      const found = named(servers.edge.spans(), 'exception').map(
        (s) => plainEvent(s.events?.[0]?.attributes)['exception.message'],
      );
      return found.includes('once') ? found : undefined;
    },
    10_000,
    'the exception spans',
  );
  const count = (message: string) => messages.filter((m) => m === message).length;
  expect(count('ResizeObserver loop completed with undelivered notifications.')).toBe(10);
  expect([count('offline 0'), count('offline 1'), count('once')]).toEqual([6, 6, 1]);
  expect(pageErrors.splice(0)).toHaveLength(40 + 12 + 1);
});

test('every span carries session, page view and route; SPA navigation (and back) starts a new page view', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/docs/42',
    esmPage({
      config: `attributes: { 'app.tenant': 'acme' }`,
      script: `
        rum.setUser({ id: 1842, admin: false, tags: ['x'] });
        rum.tracer.startSpan('numeric-user').end();
        rum.setUser({ id: 'u-1', name: 'Ada' });
        rum.tracer.startSpan('first').end();
        history.pushState({}, '', '/docs/43');
        rum.pageView('/docs/:id');
        rum.tracer.startSpan('second').end();
        history.replaceState({}, '', '/docs/43#section');
        rum.tracer.startSpan('same-path').end();
        rum.pageView('/manual');
        rum.tracer.startSpan('manual').end();
        rum.setUser(null);
        rum.tracer.startSpan('anonymous').end();
        await new Promise((resolve) => {
          addEventListener('popstate', resolve, { once: true });
          history.back();
        });
        rum.tracer.startSpan('back').end();
        await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/docs/42`);
  await expect(page.locator('#status')).toHaveText('ready');
  const spans = await spansThrough(servers, 'back');
  const [first, second, samePath, manual, anonymous, back] = [
    'first',
    'second',
    'same-path',
    'manual',
    'anonymous',
    'back',
  ].map((n) => named(spans, n)[0]?.attributes ?? {});
  // Numbers and booleans as strings (user.id is one), other values left out.
  const numericUser = named(spans, 'numeric-user')[0]?.attributes ?? {};
  expect([numericUser['user.id'], numericUser['user.admin'], numericUser['user.tags']]).toEqual([
    '1842',
    'false',
    undefined,
  ]);
  expect(first).toMatchObject({
    'rumkit.page.route': '/docs/42',
    'user.id': 'u-1',
    'user.name': 'Ada',
    'app.tenant': 'acme',
  });
  expect(String(first?.['rumkit.page_view.id'])).toMatch(/^[0-9a-f]{16}$/);
  expect(String(first?.['session.id'])).toMatch(/^[0-9a-f]{32}$/);
  expect(second?.['rumkit.page_view.id']).not.toBe(first?.['rumkit.page_view.id']);
  expect(second?.['rumkit.page.route']).toBe('/docs/:id');
  expect(samePath?.['rumkit.page_view.id']).toBe(second?.['rumkit.page_view.id']);
  expect(manual?.['rumkit.page_view.id']).not.toBe(second?.['rumkit.page_view.id']);
  expect(manual?.['rumkit.page.route']).toBe('/manual');
  expect(anonymous?.['user.id']).toBeUndefined();
  // history.back() (popstate) to the first path: a new view, not the first one again.
  expect(back?.['rumkit.page.route']).toBe('/docs/42');
  expect(new Set([first, second, manual, back].map((a) => a?.['rumkit.page_view.id'])).size).toBe(4);
  expect(new Set(spans.map((s) => s.attributes['session.id'])).size).toBe(1);
  // Each view after the first is a page_view span (the edge counts page views by them), with the route the
  // router named just after the URL change; the last one leaves a second after its view began.
  const pageViews = await waitFor(
    () => {
      const found = named(servers.edge.spans(), 'page_view');
      return found.length >= 3 ? found : undefined;
    },
    10_000,
    'the page_view spans',
  );
  expect(pageViews.map((s) => [s.attributes['rumkit.page_view.id'], s.attributes['rumkit.page.route']])).toEqual(
    [second, manual, back].map((a) => [a?.['rumkit.page_view.id'], a?.['rumkit.page.route']]),
  );
  expect(pageViews.map((s) => s.attributes['url.full'])).toEqual(
    ['/docs/43', '/docs/43#section', '/docs/42'].map((path) => `${ORIGINS.app}${path}`),
  );
  for (const view of pageViews) {
    expect(view.parentSpanId ?? '').toBe('');
    expect(view.endTimeUnixNano).toBe(view.startTimeUnixNano);
  }

  // A later page load continues the session (kept in localStorage).
  await page.goto(`${ORIGINS.app}/docs/42`);
  await expect(page.locator('#status')).toHaveText('ready');
  await waitFor(() => servers.edge.spans().filter((s) => s.name === 'first').length === 2, 10_000, 'second load');
  expect(new Set(servers.edge.spans().map((s) => s.attributes['session.id'])).size).toBe(1);
});

test('pageView(route) long after a view began starts a new view with its page_view span, on the same URL too', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/wizard',
    esmPage({
      script: `
        rum.tracer.startSpan('step-1').end();
        // The user fills in the first step: far longer than a router takes to name the view the agent started.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        rum.pageView('/wizard/step-2');
        rum.tracer.startSpan('step-2').end();
        await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/wizard`);
  await expect(page.locator('#status')).toHaveText('ready');
  const spans = await spansThrough(servers, 'step-2');
  const first = named(spans, 'step-1')[0]?.attributes ?? {};
  const second = named(spans, 'step-2')[0]?.attributes ?? {};
  expect(first['rumkit.page.route']).toBe('/wizard');
  expect(second['rumkit.page.route']).toBe('/wizard/step-2');
  expect(second['rumkit.page_view.id']).not.toBe(first['rumkit.page_view.id']);
  const pageView = await waitFor(() => named(servers.edge.spans(), 'page_view')[0], 10_000, 'the page_view span');
  expect([pageView.attributes['rumkit.page_view.id'], pageView.attributes['rumkit.page.route']]).toEqual([
    second['rumkit.page_view.id'],
    '/wizard/step-2',
  ]);
});

test("a hash router's route changes start page views; its root route, an anchor or a query in the hash does not", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/app',
    esmPage({
      script: `
        const hashChange = (change) => new Promise((resolve) => {
          addEventListener('popstate', resolve, { once: true });
          change();
        });
        rum.tracer.startSpan('boot').end();
        // A hash router writes its root route as it starts: still the view the page loaded in.
        history.replaceState({}, '', '#/');
        rum.tracer.startSpan('start').end();
        await hashChange(() => { location.hash = '#/inbox'; });
        rum.tracer.startSpan('inbox').end();
        history.pushState({}, '', '#/inbox/7?tab=all');
        rum.tracer.startSpan('message').end();
        history.replaceState({}, '', '#/inbox/7?tab=unread');
        rum.pageView('/inbox/:id');
        rum.tracer.startSpan('named').end();
        await hashChange(() => { location.hash = '#!/settings'; });
        rum.tracer.startSpan('hashbang').end();
        await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/app#top`);
  await expect(page.locator('#status')).toHaveText('ready');
  const spans = await spansThrough(servers, 'hashbang');
  const attributes = ['boot', 'start', 'inbox', 'message', 'named', 'hashbang'].map(
    (n) => named(spans, n)[0]?.attributes ?? {},
  );
  expect(attributes.map((a) => a['rumkit.page.route'])).toEqual([
    '/app',
    '/app',
    '/app#/inbox',
    '/app#/inbox/7',
    '/inbox/:id',
    '/app#!/settings',
  ]);
  const views = attributes.map((a) => a['rumkit.page_view.id']);
  expect(views[1]).toBe(views[0]);
  // The query changed without the route, and the router then named the view it was already in.
  expect(views[4]).toBe(views[3]);
  expect(new Set(views).size).toBe(4);
});

test("init() leaves localStorage and the client hints to the first span, out of the page's start-up", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/lazy-start',
    esmPage({
      // Spies installed before the agent's module is even imported.
      before: `window.touched = [];
const spy = (target, name) => {
  const { get } = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, { configurable: true, get() { touched.push(name); return get.call(this); } });
};
spy(window, 'localStorage');
spy(Navigator.prototype, 'userAgentData');`,
      script: `window.atInit = [...touched];
rum.tracer.startSpan('first').end();
await rum.flush();
window.afterSpan = [...new Set(touched)];`,
    }),
  );
  await page.goto(`${ORIGINS.app}/lazy-start`);
  const span = await waitFor(() => named(servers.edge.spans(), 'first')[0], 10_000, 'span first');
  // The edge can have the span before the page's `flush()` has resolved and recorded what the span touched.
  await page.waitForFunction(() => (window as unknown as { afterSpan?: string[] }).afterSpan !== undefined);
  const { atInit, afterSpan } = await page.evaluate(() => {
    const { atInit, afterSpan } = window as unknown as { atInit: string[]; afterSpan: string[] };
    return { atInit, afterSpan };
  });
  expect(atInit).toEqual([]);
  expect(afterSpan.sort()).toEqual(['localStorage', 'userAgentData']);
  // What the first span read: the session, and the resource with the client hints.
  expect(span.attributes['session.id']).toMatch(/^[0-9a-f]{32}$/);
  expect(span.resource['browser.platform']).toBe('Linux');
  expect(await page.evaluate(() => localStorage.getItem('rumkit.session'))).toContain(
    String(span.attributes['session.id']),
  );
});

test('the resource names the service, the browser and the SDK', async ({ page, servers }) => {
  servers.app.pages.set('/resource', esmPage({ script: `rum.tracer.startSpan('x').end(); await rum.flush();` }));
  await page.goto(`${ORIGINS.app}/resource`);
  const span = await waitFor(() => named(servers.edge.spans(), 'x')[0], 10_000, 'span x');
  const userAgent = await page.evaluate(() => navigator.userAgent);
  expect(span.resource).toMatchObject({
    'service.name': 'test-web',
    'service.version': '1.2.3',
    'deployment.environment.name': 'test',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.language': 'webjs',
    'telemetry.distro.name': 'rumkit',
    'user_agent.original': userAgent,
    'browser.language': 'en-US',
    'browser.mobile': false,
    'browser.platform': 'Linux',
  });
  expect((span.resource['browser.brands'] as string[]).some((b) => b.startsWith('Chromium '))).toBe(true);
  // Key and clock travel in the query and the body as text/plain, so the export needed no CORS preflight.
  const [request] = servers.edge.requests;
  expect(request?.via).toBe('fetch');
  expect(request?.headers['content-type']).toBe('text/plain;charset=UTF-8');
  expect(request?.query.get('key')).toBe('pk_test');
  const sentAt = Number(request?.query.get('sent_at'));
  expect(Math.abs(sentAt - (request?.at ?? 0))).toBeLessThan(5_000);
  expect(servers.edge.preflights).toBe(0);
});

test('sent_at comes from the clock of the span timestamps, even when the wall clock jumps', async ({
  page,
  servers,
}) => {
  // The SDK anchors span times to Date.now(); the edge corrects skew by comparing sent_at with its own clock,
  // so sent_at must move with Date.now() (performance.timeOrigin + performance.now() does not).
  servers.app.pages.set('/clock', esmPage({ script: `rum.tracer.startSpan('late').end(); await rum.flush();` }));
  const shiftMs = 3_600_000;
  // The wall clock moves after navigation (NTP, a sleeping laptop): performance.timeOrigin does not follow.
  await page.addInitScript((shift) => {
    const wall = Date.now;
    Date.now = () => wall() + shift;
  }, shiftMs);
  await page.goto(`${ORIGINS.app}/clock`);
  const span = await waitFor(() => named(servers.edge.spans(), 'late')[0], 10_000, 'span late');
  const sentAt = Number(span.request.query.get('sent_at'));
  const endMs = Number(BigInt(span.endTimeUnixNano) / 1_000_000n);
  expect(Math.abs(sentAt - endMs)).toBeLessThan(5_000);
  expect(Math.abs(sentAt - span.request.at - shiftMs)).toBeLessThan(5_000);
});

test('sampling: a rate of 0 keeps no trace and propagates an unsampled traceparent', async ({ page, servers }) => {
  servers.app.pages.set(
    '/unsampled',
    esmPage({
      config: 'sampleRate: 0',
      script: `await fetch(API + '/x'); rum.tracer.startSpan('dropped').end(); await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/unsampled`);
  await expect(page.locator('#status')).toHaveText('ready');
  await page.waitForTimeout(500);
  expect(servers.edge.spans()).toEqual([]);
  expect(String(servers.api.requests[0]?.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
});

test("sampling: the edge's rate for the key (GET /v1/config) caps the agent's, from the next page on at once", async ({
  page,
  servers,
}) => {
  // Each page records a span as soon as the agent starts, then, once the edge's answer is stored, makes a fetch.
  servers.app.pages.set(
    '/edge-rate',
    esmPage({
      script: `const page = location.search.slice(1);
        rum.tracer.startSpan('at-start-' + page).end();
        const stored = localStorage.getItem(${JSON.stringify(RATE_KEY)});
        while (localStorage.getItem(${JSON.stringify(RATE_KEY)}) === stored) await new Promise((r) => setTimeout(r, 20));
        await fetch(API + '/after-answer-' + page);
        await rum.flush();`,
    }),
  );
  const load = async (name: string) => {
    await page.goto(`${ORIGINS.app}/edge-rate?${name}`);
    await expect(page.locator('#status')).toHaveText('ready');
  };
  const fetchSpansOf = (path: string) =>
    servers.edge.spans().filter((s) => String(s.attributes['url.full']).endsWith(path));

  // The first page starts at its own rate (1); once the edge has answered 0, it keeps nothing more.
  servers.edge.sampleRate = 0;
  await load('first');
  await waitFor(() => named(servers.edge.spans(), 'at-start-first')[0], 10_000, 'the span before the answer');
  expect(String(servers.api.requests[0]?.traceparent)).toMatch(/-00$/);

  // The next page starts at the stored 0; the edge's new answer (1) applies once it arrives.
  servers.edge.sampleRate = 1;
  await load('second');
  await waitFor(() => fetchSpansOf('/after-answer-second')[0], 10_000, 'the second page’s fetch span');
  expect(String(servers.api.requests[1]?.traceparent)).toMatch(/-01$/);
  await page.waitForTimeout(500);
  expect(named(servers.edge.spans(), 'at-start-second')).toEqual([]);
  expect(fetchSpansOf('/after-answer-first')).toEqual([]);
});

test("the agent asks the edge for its rate only after the page's load, so start-up makes no request for it", async ({
  page,
  servers,
}) => {
  // An image the app server answers late holds the page's load event back.
  servers.app.delays.set('/slow-image', 1_000);
  servers.app.pages.set('/late-load', esmPage({ head: '<img src="/slow-image" alt="">' }));
  servers.edge.sampleRate = 0.5;
  await page.goto(`${ORIGINS.app}/late-load`, { waitUntil: 'commit' });
  await expect(page.locator('#status')).toHaveText('ready');
  expect(servers.edge.configAskedAt).toEqual([]);
  await page.waitForLoadState('load');
  await page.waitForFunction((key) => localStorage.getItem(key) === '0.5', RATE_KEY);
  const loadedAt = await page.evaluate(
    () =>
      performance.timeOrigin +
      (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventStart,
  );
  expect(servers.edge.configAskedAt).toHaveLength(1);
  expect(servers.edge.configAskedAt[0]).toBeGreaterThanOrEqual(Math.floor(loadedAt));
});

test('an answer without a rate keeps the rate stored from an earlier page', async ({ page, servers }) => {
  servers.app.pages.set('/rate', esmPage());
  servers.edge.sampleRate = 0.5;
  await page.goto(`${ORIGINS.app}/rate`);
  await page.waitForFunction((key) => localStorage.getItem(key) === '0.5', RATE_KEY);
  // An older edge: `{}` (JSON leaves the undefined rate out).
  servers.edge.sampleRate = undefined as unknown as number;
  await page.goto(`${ORIGINS.app}/rate?again`);
  await expect.poll(() => servers.edge.configAskedAt.length).toBe(2);
  await page.waitForTimeout(300);
  expect(await page.evaluate((key) => localStorage.getItem(key), RATE_KEY)).toBe('0.5');
});

function plainEvent(attributes: KeyValue[] | undefined) {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, value.stringValue ?? value.intValue]));
}
