/**
 * The agent must never break the host page: a throwing `beforeSend` or one returning what JSON cannot encode,
 * rejections with odd values, a failure of what starts after `load`, a full `localStorage`, a browser without
 * `PerformanceObserver` and a bad config each leave the page working. Spans go to a test receiver standing in
 * for the rumkit edge.
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

test('a throwing beforeSend drops spans, says so once, and the page works', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
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
  expect(errors.filter((e) => e.includes('beforeSend failed'))).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('a beforeSend returning what JSON cannot encode drops those spans only, hidden or not', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
  servers.app.pages.set(
    '/unencodable',
    esmPage({
      config: `beforeSend: (span) => {
        if (span.name.startsWith('bigint')) span.big = 10n;
        if (span.name === 'circular') span.self = span;
        return span;
      }`,
      script: `
        // In one task, so the four are encoded together after it (a timer).
        for (const name of ['bigint', 'kept-1', 'circular', 'kept-2']) rum.tracer.startSpan(name).end();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await rum.flush();
        // Hidden, a span is encoded inside the page's own end().
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        document.dispatchEvent(new Event('visibilitychange'));
        rum.tracer.startSpan('bigint-hidden').end();
        rum.tracer.startSpan('kept-hidden').end();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/unencodable`);
  await expect(page.locator('#status')).toHaveText('ready');
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'kept-hidden'), 10_000, 'the span kept while hidden');
  const names = servers.edge.spans().map((s) => s.name);
  expect(names.filter((n) => n.startsWith('kept-')).sort()).toEqual(['kept-1', 'kept-2', 'kept-hidden']);
  expect(names.filter((n) => n.startsWith('bigint') || n === 'circular')).toEqual([]);
  expect(errors.filter((e) => e.includes('beforeSend'))).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('rejections with values that are not Errors become exceptions, and never make the agent throw', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
  servers.app.pages.set(
    '/odd-rejections',
    esmPage({
      script: `
        // The page handles its rejections: what reaches pageErrors is what the agent threw.
        addEventListener('unhandledrejection', (event) => event.preventDefault());
        Promise.reject(Object.assign(Object.create(null), { code: 7 }));
        Promise.reject({ code: 'E_PAY' });
        Promise.reject({ get message() { throw new Error('getter'); } });
        await new Promise((resolve) => setTimeout(resolve, 100));
        await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/odd-rejections`);
  await expect(page.locator('#status')).toHaveText('ready');
  const messages = await waitFor(
    () => {
      const found = servers.edge
        .spans()
        .filter((s) => s.name === 'exception')
        .map((s) => s.events?.[0]?.attributes?.find((a) => a.key === 'exception.message')?.value.stringValue);
      return found.length >= 2 ? found : undefined;
    },
    10_000,
    'two exception spans',
  );
  expect(messages.sort()).toEqual(['{"code":"E_PAY"}', '{"code":7}']);
  expect(errors.filter((e) => e.startsWith('rumkit:'))).toHaveLength(1);
  expect(pageErrors).toEqual([]);
});

test('a failure of what the agent starts after load is reported on the console, not thrown into the page', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
  servers.app.pages.set(
    '/deferred-fails',
    esmPage({
      // Document load looks for <meta name="traceparent"> as it starts.
      before: `
        const querySelector = document.querySelector.bind(document);
        document.querySelector = (selector) => {
          if (selector === 'meta[name=traceparent]') throw new Error('broken DOM');
          return querySelector(selector);
        };`,
      script: `${PAGE_WORK}\n await rum.flush();`,
    }),
  );
  await page.goto(`${ORIGINS.app}/deferred-fails`);
  await expect(page.locator('#status')).toHaveAttribute('data-pong', 'true');
  await expect.poll(() => errors.some((e) => e.startsWith('rumkit:') && e.includes('broken DOM'))).toBe(true);
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'page-work'), 10_000, 'the page-work span');
  expect(pageErrors).toEqual([]);
});

test("fetch with a frozen init neither throws nor loses its trace context, and a caller's init is not written to", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/frozen-init',
    esmPage({
      script: `
        let threw = null;
        const plain = { method: 'GET' };
        try {
          await fetch(API + '/frozen', Object.freeze({ method: 'POST', body: '{}' }));
          await fetch(API + '/plain', plain);
        } catch (error) {
          threw = String(error);
        }
        window.result = { threw, plainKeys: Object.keys(plain) };`,
    }),
  );
  await page.goto(`${ORIGINS.app}/frozen-init`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { result: unknown }).result)).toEqual({
    threw: null,
    plainKeys: ['method'],
  });
  expect(servers.api.requests.map((headers) => typeof headers.traceparent)).toEqual(['string', 'string']);
});

test("fetch reads the caller's init as fetch does, inherited members and getters included, and leaves a reused Headers object alone", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/inherited-init',
    esmPage({
      script: `
        const shared = new Headers({ 'x-app': '1' });
        const defaults = { method: 'POST', headers: shared };
        const inherited = Object.assign(Object.create(defaults), { body: 'inherited' });
        const getters = { get method() { return 'PUT'; }, get body() { return 'getter'; } };
        const answers = [];
        for (const [path, init] of [['/echo/inherited', inherited], ['/echo/getters', getters]]) {
          const response = await fetch(API + path, init);
          answers.push(await response.text());
        }
        window.result = { answers, sharedKeys: [...shared.keys()] };`,
    }),
  );
  await page.goto(`${ORIGINS.app}/inherited-init`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { result: unknown }).result)).toEqual({
    answers: ['POST /inherited inherited', 'PUT /getters getter'],
    sharedKeys: ['x-app'],
  });
  expect(servers.api.requests.map((headers) => [headers['x-app'], typeof headers.traceparent])).toEqual([
    ['1', 'string'],
    [undefined, 'string'],
  ]);
});

test("fetch(request) leaves the caller's Request unwritten, sends its body once, and is traced", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/request-input',
    esmPage({
      script: `
        const request = new Request(API + '/echo/request', { method: 'POST', body: 'from a request', headers: { 'x-app': '2' } });
        const answer = await (await fetch(request)).text();
        let reused = null;
        try {
          await fetch(request);
        } catch (error) {
          reused = error.name;
        }
        // A streamed body: Chromium sends one over HTTP/2 only, so here the traced fetch must fail as the untraced one.
        const streamed = () => new Request(API + '/echo/stream', {
          method: 'POST',
          body: new ReadableStream({ start(controller) { controller.enqueue(new Uint8Array([1])); controller.close(); } }),
          duplex: 'half',
        });
        const outcome = (response) => response.then((r) => r.text(), (error) => String(error));
        window.result = {
          answer,
          headers: [...request.headers.keys()],
          bodyUsed: request.bodyUsed,
          reused,
          streamed: [await outcome(fetch(streamed())), await outcome(untracedFetch(streamed()))],
        };`,
      before: 'const untracedFetch = fetch;',
    }),
  );
  await page.goto(`${ORIGINS.app}/request-input`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { result: unknown }).result)).toEqual({
    answer: 'POST /request from a request',
    headers: ['content-type', 'x-app'],
    // As fetch(request) leaves it without the agent: the body went out, and the request cannot be sent again.
    bodyUsed: true,
    reused: 'TypeError',
    streamed: ['TypeError: Failed to fetch', 'TypeError: Failed to fetch'],
  });
  await flushAgent(page);
  const span = await waitFor(
    () =>
      servers.edge.spans().find((s) => s.name === 'POST' && s.attributes['url.full'] === `${ORIGINS.api}/echo/request`),
    10_000,
    'the span of fetch(request)',
  );
  expect(servers.api.requests[0]?.['x-app']).toBe('2');
  expect(servers.api.requests[0]?.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
});

test('a fetch the instrumentation throws on rejects as fetch would, and its span ends at once with an error, its observer gone', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/throwing-fetch',
    esmPage({
      // The resource-timing observers still open: the instrumentation starts one per traced request.
      before: `
        const open = new Set();
        window.resourceObservers = open;
        const { observe, disconnect } = PerformanceObserver.prototype;
        PerformanceObserver.prototype.observe = function (options) {
          if (options.entryTypes?.includes('resource')) open.add(this);
          return observe.call(this, options);
        };
        PerformanceObserver.prototype.disconnect = function () {
          open.delete(this);
          return disconnect.call(this);
        };`,
      // A header value outside Latin-1: the instrumentation's copy of the headers throws before the request goes.
      script: `
        let rejected = null;
        try {
          await fetch('/api/ping?bad-header', { headers: { 'x-note': '€' } });
        } catch (error) {
          rejected = error.name;
        }
        await rum.flush();
        window.result = { rejected, observersLeft: window.resourceObservers.size };`,
    }),
  );
  await page.goto(`${ORIGINS.app}/throwing-fetch`);
  await expect(page.locator('#status')).toHaveText('ready');
  expect(await page.evaluate(() => (window as unknown as { result: unknown }).result)).toEqual({
    rejected: 'TypeError',
    observersLeft: 0,
  });
  const span = servers.edge.spans().find((s) => String(s.attributes['url.full']).endsWith('/api/ping?bad-header'));
  expect(span?.status?.code).toBe(2);
});

test('a stream the page stops reading is closed, not kept open by the agent, and its span ends at the headers', async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/stream',
    esmPage({
      script: `
        const response = await fetch('/api/stream');
        const reader = response.body.getReader();
        document.getElementById('status').dataset.first = new TextDecoder().decode((await reader.read()).value);
        await reader.cancel();
        const copy = response.clone;
        document.getElementById('status').dataset.clone = String(copy === Response.prototype.clone);
        // A stream the agent does not trace (an ignored URL): the page's own clone is a Response, whole.
        const ignored = await fetch('/api/stream?ignored');
        const twin = ignored.clone().body.getReader();
        document.getElementById('status').dataset.twin = new TextDecoder().decode((await twin.read()).value);
        await Promise.all([twin.cancel(), ignored.body.cancel()]);`,
      config: `ignoreUrls: [/ignored/]`,
    }),
  );
  await page.goto(`${ORIGINS.app}/stream`);
  await expect(page.locator('#status')).toHaveAttribute('data-first', 'data: first\n\n');
  // The instrumentation's clone of the body, read to its end, held the connection open for as long as it lasted.
  await expect(page.locator('#status')).toHaveAttribute('data-twin', 'data: first\n\n');
  await waitFor(() => servers.app.streams.closed === 2, 10_000, 'both streams closed by the page');
  const span = await waitFor(
    () =>
      servers.edge.spans().find((s) => s.name === 'GET' && String(s.attributes['url.full']).endsWith('/api/stream')),
    10_000,
    'the span of the streamed fetch',
  );
  expect(span.attributes['http.response.status_code']).toBe(200);
  await expect(page.locator('#status')).toHaveAttribute('data-clone', 'true');
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
  consoleErrors: errors,
}) => {
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
