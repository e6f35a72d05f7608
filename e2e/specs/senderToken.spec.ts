/**
 * Sender tokens from a real page to the real edge worker: a key with `tokenSecret` takes only requests that
 * carry a token the site's backend minted, and the agent (script tag, `data-token`) sends its token with every
 * request, including the one for the edge's sampling rate; `setToken()` renews it. The tokens are minted as a
 * site's Node backend would, with `@rumkit/edge/token`. What is tested is the edge's admission: the worker forwards
 * what it admits to a test OTLP receiver (worker/src/testing/otlpReceiver.ts) rather than to the stack's collector.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { mintToken } from '@rumkit/edge/token';
import { hashKey, parseConfig } from '../../worker/src/config.ts';
import { createLogger } from '../../worker/src/log.ts';
import { type NodeServer, startNodeServer } from '../../worker/src/node.ts';
import { startReceiver } from '../../worker/src/testing/otlpReceiver.ts';
import { repoPaths } from '../stack/repoPaths.ts';

const KEY = 'pk_bank_e2e_0123456789';
const SECRET = 'a-deployment-secret-of-some-length';
const agentDist = path.join(repoPaths.root, 'packages/browser/dist');

let page: Server;
let pageOrigin: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let edge: NodeServer;

test.beforeAll(async () => {
  page = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/') {
      const token = url.searchParams.get('token');
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(`<!doctype html><title>bank</title><p id="status">loading</p>
<script src="/rumkit.iife.js" data-endpoint="${edge.url}" data-api-key="${KEY}" data-service-name="bank-web"
  ${token ? `data-token="${token}"` : ''}></script>
<script>document.getElementById('status').textContent = 'ready';</script>`);
    }
    try {
      const file = await readFile(path.join(agentDist, path.basename(url.pathname)));
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(file);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  receiver = await startReceiver();
  const config = parseConfig({
    server: { port: 0 },
    tenants: [
      {
        id: 'bank',
        sampleRate: 0.5,
        keys: [{ id: 'bank-web', keyHash: hashKey(KEY), origins: [pageOrigin], tokenSecret: SECRET }],
      },
    ],
    upstream: { url: receiver.url, protocol: 'json' },
    metrics: { exportIntervalSeconds: 0 },
  });
  edge = await startNodeServer(
    config,
    createLogger('error', () => {}),
  );
});

test.afterAll(async () => {
  await edge?.close();
  await receiver?.stop();
  await new Promise((resolve) => page?.close(resolve));
});

interface PageAgent {
  tracer: { startSpan(name: string): { isRecording(): boolean; end(): void } };
  flush(): Promise<void>;
  setToken(token: string): void;
}

/**
 * Records a span named `name` that the agent's sampler keeps (a kept trace id is kept by the edge's
 * sampling at the same rate too) and flushes; false when the agent kept none (an inert agent keeps none).
 */
async function recordSpan(tab: Page, name: string): Promise<boolean> {
  return tab.evaluate(async (spanName) => {
    const rum = (window as unknown as { rumkit: PageAgent }).rumkit;
    let kept = false;
    for (let i = 0; i < 64 && !kept; i++) {
      const span = rum.tracer.startSpan(spanName);
      kept = span.isRecording();
      span.end();
    }
    await rum.flush();
    return kept;
  }, name);
}

const setToken = (tab: Page, token: string) =>
  tab.evaluate((t) => (window as unknown as { rumkit: PageAgent }).rumkit.setToken(t), token);

const spanNames = () => receiver.spans().map((s) => s.name);

/** The edge rates the page's agents stored (`rumkit.rate.<scope>`, one key per edge and key). */
const storedEdgeRates = () =>
  Object.keys(localStorage)
    .filter((key) => key.startsWith('rumkit.rate.'))
    .map((key) => localStorage.getItem(key));

/** The edge's count of ingest requests with this outcome, from its /metrics. */
async function requestsWithOutcome(outcome: string): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  const line = new RegExp(`^rumkit_edge_requests_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'gm');
  return [...text.matchAll(line)].reduce((sum, [, count]) => sum + Number(count), 0);
}

test('the agent sends its sender token with every request, and setToken() renews it', async ({ page: tab }) => {
  const now = Date.now();
  await tab.goto(`${pageOrigin}/?token=${mintToken('bank-web', SECRET, 300, now)}`);
  await expect(tab.locator('#status')).toHaveText('ready');

  // The rate request carries the token too: the edge answers it, and the agent stores the tenant's rate.
  await expect.poll(() => tab.evaluate(storedEdgeRates), { timeout: 10_000 }).toEqual(['0.5']);
  expect(await recordSpan(tab, 'with-minted-token')).toBe(true);
  await expect.poll(spanNames, { timeout: 10_000 }).toContain('with-minted-token');

  // A token the edge does not accept (here: signed with another secret) loses the batch: 401 is not retried.
  await setToken(tab, mintToken('bank-web', 'not-the-deployment-secret', 300, now));
  expect(await recordSpan(tab, 'with-foreign-token')).toBe(true);
  // A renewed token from the backend is used from the next request on.
  await setToken(tab, mintToken('bank-web', SECRET, 600, now));
  expect(await recordSpan(tab, 'with-renewed-token')).toBe(true);
  await expect.poll(spanNames, { timeout: 10_000 }).toContain('with-renewed-token');
  expect(spanNames()).not.toContain('with-foreign-token');
});

test('without a token, a key that requires one takes nothing from the page', async ({ page: tab }) => {
  await tab.goto(`${pageOrigin}/`);
  await expect(tab.locator('#status')).toHaveText('ready');
  const [accepted, unauthorized] = await Promise.all([
    requestsWithOutcome('accepted'),
    requestsWithOutcome('unauthorized'),
  ]);
  // The agent runs and keeps the span (an inert agent, with a bad configuration, would prove nothing), and its
  // flush ends once the export had its answer: the edge refused it, and accepted nothing.
  expect(await recordSpan(tab, 'without-token')).toBe(true);
  expect(await requestsWithOutcome('unauthorized')).toBeGreaterThan(unauthorized);
  expect(await requestsWithOutcome('accepted')).toBe(accepted);
  expect(spanNames()).not.toContain('without-token');
});
