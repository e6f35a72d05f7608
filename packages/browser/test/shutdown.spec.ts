/**
 * `shutdown()` ends the agent for the page: nothing it installed records afterwards. A later `init()` starts
 * an agent that works as the first did, also for code that reaches the tracer through the global
 * OpenTelemetry API (as a page's own `@opentelemetry/api` copy does). Spans go to a test receiver standing in
 * for the rumkit edge.
 */
import { expect, test } from './support/fixtures.ts';
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
