/**
 * The ways an app adds the agent: the script tag (`dist/rumkit.iife.js` configured by its `data-*`
 * attributes, loading `rumkit.deferred.js` and `rumkit.xhr.js` from beside itself), the async loader
 * snippet that queues calls made before the agent arrives, and the opt-in entries `@rumkit/browser/xhr`
 * and `@rumkit/browser/zone`. Spans go to a test receiver standing in for the rumkit edge.
 */
import { readFileSync } from 'node:fs';
import { expect, flushAgent, test } from './support/fixtures.ts';
import { esmPage, ORIGINS, waitFor } from './support/servers.ts';

const snippet = readFileSync(new URL('../loader/snippet.html', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

const XHR_SCRIPT = `
  const xhrRequest = new XMLHttpRequest();
  xhrRequest.open('GET', API + '/legacy');
  xhrRequest.onload = () => { window.xhrDone = true; };
  xhrRequest.send();`;

test('the script tag starts from its data-* attributes and loads its deferred and XHR chunks', async ({
  page,
  servers,
  pageErrors,
}) => {
  servers.app.pages.set(
    '/tag',
    `<!doctype html><html><head>
      <script src="/dist/rumkit.iife.js" data-endpoint="${ORIGINS.edge}" data-api-key="pk_test" data-service-name="tag-web"
        data-sample-rate="1" data-propagate-trace-header-cors-urls="${ORIGINS.api}" data-xhr></script>
    </head><body><h1>script tag</h1><script>
      const API = ${JSON.stringify(ORIGINS.api)};
      window.fetchDone = fetch(API + '/modern').then(() => true);
      setTimeout(() => { ${XHR_SCRIPT} }, 500);
    </script></body></html>`,
  );
  await page.goto(`${ORIGINS.app}/tag`);
  await page.waitForFunction(() => 'xhrDone' in window);
  await page.evaluate(() => (window as unknown as { rumkit: { flush(): Promise<void> } }).rumkit.flush());
  const spans = await waitFor(
    () => {
      const s = servers.edge.spans();
      const names = new Set(s.map((x) => x.name));
      return ['documentLoad', 'web_vital.FCP', 'GET'].every((n) => names.has(n)) &&
        s.some((x) => x.kind === 3 && x.attributes['url.full'] === `${ORIGINS.api}/legacy`)
        ? s
        : undefined;
    },
    15_000,
    'document load, web vital, fetch and XHR spans',
  );
  expect(spans.every((s) => s.resource['service.name'] === 'tag-web')).toBe(true);
  const xhrSpan = spans.find((s) => s.kind === 3 && s.attributes['url.full'] === `${ORIGINS.api}/legacy`);
  const legacyRequest = servers.api.requests.find((h) => h.traceparent?.includes(xhrSpan?.spanId ?? 'none'));
  expect(legacyRequest).toBeDefined();
  expect(pageErrors).toEqual([]);
});

test("on a page whose CSP allows scripts by nonce, the script tag's chunks load with its nonce", async ({
  page,
  servers,
}) => {
  servers.app.pages.set(
    '/csp',
    `<!doctype html><html><head>
      <meta http-equiv="Content-Security-Policy" content="script-src 'nonce-r4nd0m'">
      <script nonce="r4nd0m" src="/dist/rumkit.iife.js" data-endpoint="${ORIGINS.edge}" data-api-key="pk_test"
        data-service-name="csp-web" data-xhr></script>
    </head><body><h1>nonce</h1></body></html>`,
  );
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/.test(message.text())) refused.push(message.text());
  });
  await page.goto(`${ORIGINS.app}/csp`);
  const fromChunk = () => servers.edge.spans().find((s) => s.name === 'documentLoad');
  await waitFor(fromChunk, 15_000, 'documentLoad from the deferred chunk');
  expect(refused).toEqual([]);
});

test('data-xhr="false" leaves XHR spans off and the agent on; other data-* attributes are not options', async ({
  page,
  servers,
  pageErrors,
}) => {
  const messages: string[] = [];
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && messages.push(m.text()));
  const chunks: string[] = [];
  page.on('request', (r) => r.url().includes('rumkit.xhr.js') && chunks.push(r.url()));
  servers.app.pages.set(
    '/tag-no-xhr',
    `<!doctype html><html><head>
      <script src="/dist/rumkit.iife.js" data-endpoint="${ORIGINS.edge}" data-api-key="pk_test" data-service-name="tag-web"
        data-xhr="false" data-cfasync="false" data-testid="rum"></script>
    </head><body><h1>script tag without XHR</h1><script>
      const API = ${JSON.stringify(ORIGINS.api)};
      window.fetchDone = fetch(API + '/modern').then(() => true);
    </script></body></html>`,
  );
  await page.goto(`${ORIGINS.app}/tag-no-xhr`);
  await page.evaluate(() => (window as unknown as { fetchDone: Promise<boolean> }).fetchDone);
  await page.evaluate(() => (window as unknown as { rumkit: { flush(): Promise<void> } }).rumkit.flush());
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'GET'), 10_000, 'the fetch span');
  expect(chunks).toEqual([]);
  expect(messages).toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('a rumkit.xhr.js that loads but registers nothing (a stale or foreign file) throws nothing into the page', async ({
  page,
  servers,
  pageErrors,
  consoleErrors: errors,
}) => {
  await page.route('**/dist/rumkit.xhr.js', (route) =>
    route.fulfill({ contentType: 'text/javascript', body: '/* registers nothing */' }),
  );
  servers.app.pages.set(
    '/tag-bad-xhr',
    `<!doctype html><html><head>
      <script src="/dist/rumkit.iife.js" data-endpoint="${ORIGINS.edge}" data-api-key="pk_test" data-service-name="tag-web"
        data-xhr></script>
    </head><body><h1>script tag, XHR chunk that registers nothing</h1></body></html>`,
  );
  await page.goto(`${ORIGINS.app}/tag-bad-xhr`);
  await expect.poll(() => errors.filter((e) => e.startsWith('rumkit:'))).toHaveLength(1);
  // The agent runs on: its deferred chunk reports the document's load.
  await waitFor(() => servers.edge.spans().find((s) => s.name === 'documentLoad'), 15_000, 'the documentLoad span');
  expect(pageErrors).toEqual([]);
});

test('the loader snippet is under 1 KB, is the one in the README, and queues calls made before the agent arrives', async ({
  page,
  servers,
  pageErrors,
}) => {
  expect(Buffer.byteLength(snippet)).toBeLessThan(1024);
  expect(readme).toContain(snippet.trim());

  servers.app.delays.set('/dist/rumkit.iife.js', 700);
  const configured = snippet
    .replace('https://cdn.example.com/rumkit/0.1.0/rumkit.iife.js', `${ORIGINS.app}/dist/rumkit.iife.js`)
    .replace('https://rum.example.com', ORIGINS.edge)
    .replace('pk_live_123', 'pk_test');
  servers.app.pages.set(
    '/snippet',
    `<!doctype html><html><head>${configured}</head><body><h1>snippet</h1><script>
      rumkit.setUser({ id: 'early-user' });
      rumkit.recordError(new Error('before the agent'));
      setTimeout(() => { throw new Error('uncaught before the agent'); });
    </script></body></html>`,
  );
  await page.goto(`${ORIGINS.app}/snippet`);
  await page.waitForFunction(
    () => typeof (window as unknown as { rumkit: { tracer?: unknown } }).rumkit.tracer === 'object',
  );
  await page.evaluate(() => (window as unknown as { rumkit: { flush(): Promise<void> } }).rumkit.flush());
  const exceptions = await waitFor(
    () => {
      const s = servers.edge.spans().filter((x) => x.name === 'exception');
      return s.length >= 2 ? s : undefined;
    },
    10_000,
    'two exception spans',
  );
  const messages = exceptions.map(
    (s) => s.events?.[0]?.attributes?.find((a) => a.key === 'exception.message')?.value.stringValue,
  );
  expect(messages.sort()).toEqual(['before the agent', 'uncaught before the agent']);
  expect(exceptions.every((s) => s.attributes['user.id'] === 'early-user')).toBe(true);
  // The page's own, thrown on purpose; nothing from the snippet or the agent.
  expect(pageErrors.splice(0)).toEqual(['uncaught before the agent']);
});

test('the loader snippet keeps at most 100 queued things when the agent never arrives', async ({ page, servers }) => {
  const blocked = snippet.replace('https://cdn.example.com/rumkit/0.1.0/rumkit.iife.js', `${ORIGINS.app}/blocked.js`);
  servers.app.pages.set('/snippet-blocked', `<!doctype html><html><head>${blocked}</head><body></body></html>`);
  await page.goto(`${ORIGINS.app}/snippet-blocked`);
  const queued = await page.evaluate(() => {
    for (let i = 0; i < 150; i++) dispatchEvent(new ErrorEvent('error', { error: new Error(`e${i}`) }));
    return (window as unknown as { rumkit: { q: unknown[] } }).rumkit.q.length;
  });
  expect(queued).toBe(100);
});

test('@rumkit/browser/xhr adds XHR spans to the npm build', async ({ page, servers }) => {
  servers.app.pages.set(
    '/xhr',
    esmPage({ before: `const { xhr } = await import('/dist/xhr.js');`, config: 'xhr', script: XHR_SCRIPT }),
  );
  await page.goto(`${ORIGINS.app}/xhr`);
  await page.waitForFunction(() => 'xhrDone' in window);
  await flushAgent(page);
  const span = await waitFor(
    () => servers.edge.spans().find((s) => s.kind === 3 && s.attributes['url.full'] === `${ORIGINS.api}/legacy`),
    10_000,
    'the XHR span',
  );
  expect(span.kind).toBe(3);
  expect(servers.api.requests[0]?.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
});

for (const entry of ['zone', 'index'] as const) {
  test(`with the ${entry} entry, an error after a timeout ${entry === 'zone' ? 'joins' : 'does not join'} the span that set it`, async ({
    page,
    servers,
  }) => {
    servers.app.pages.set(
      `/${entry}`,
      esmPage({
        entry,
        script: `
          rum.tracer.startActiveSpan('outer', (span) => {
            setTimeout(() => { rum.recordError(new Error('later')); span.end(); rum.flush(); }, 10);
          });`,
      }),
    );
    await page.goto(`${ORIGINS.app}/${entry}`);
    const outer = await waitFor(() => servers.edge.spans().find((s) => s.name === 'outer'), 10_000, 'the outer span');
    const joined = !!outer.events?.some((e) => e.name === 'exception');
    expect(joined).toBe(entry === 'zone');
    if (entry === 'index') {
      await waitFor(() => servers.edge.spans().find((s) => s.name === 'exception'), 10_000, 'the exception span');
    }
  });
}
