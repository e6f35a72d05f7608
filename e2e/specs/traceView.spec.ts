/**
 * The trace view shows what a user did, from both of its sources: in `npm start`'s local mode (no stack; the
 * edge worker and the API send to the view's own store) and reading Tempo (TEMPO_URL; the real stack of the
 * global setup). A document uploaded on a demo page in Chromium links to its trace in the view, which shows one
 * waterfall across rumkit-demo-web and rumkit-demo-api — the page view's documentLoad, the upload's fetch span,
 * the API's server span and OCR spans under it, the web vitals — and the web → api edge.
 *
 * RUMKIT_UPDATE_SCREENSHOTS=1 writes the local-mode trace page to docs/trace-view.png (the README's picture).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import type { TraceSpan } from '../../demo/traceView/traceSource.ts';
import { closeTab, uploadDocument } from '../harness/demoPage.ts';
import { e2eUrls } from '../harness/e2eUrls.ts';
import { type DemoUrls, type RunningDemo, startDemo } from '../harness/startDemo.ts';
import { portBaseFromEnv, stackPorts } from '../stack/ports.ts';
import { repoPaths } from '../stack/repoPaths.ts';

const WEB = 'rumkit-demo-web';
const API = 'rumkit-demo-api';

/** Uploads on the React page, follows its trace link after the tab is closed, and checks the view's page. */
async function uploadAndOpenTrace(context: BrowserContext, urls: DemoUrls): Promise<Page> {
  const demoPage = await context.newPage();
  const { traceId, traceUrl } = await uploadDocument(demoPage, `${urls.web}/`);
  expect(traceUrl, 'the demo page links the upload to its trace in the view').toBe(`${urls.view}/traces/${traceId}`);
  await closeTab(demoPage);

  const view = await context.newPage();
  const selected = view.locator('tbody.selected');
  await expect(async () => {
    await view.goto(traceUrl);
    await expect(view.locator(`tr[data-span-name="documentLoad"][data-service="${WEB}"]`)).toHaveCount(1, {
      timeout: 100,
    });
    await expect(selected.locator(`tr[data-kind="client"][data-service="${WEB}"]`)).toHaveCount(1, { timeout: 100 });
    await expect(selected.locator(`tr[data-kind="server"][data-service="${API}"]`)).toHaveCount(1, { timeout: 100 });
    for (const name of ['ocr.job', 'ocr.preprocess', 'ocr.extract_text', 'INSERT documents']) {
      await expect(selected.locator(`tr[data-span-name="${name}"][data-service="${API}"]`).first()).toBeVisible({
        timeout: 100,
      });
    }
    for (const vital of ['FCP', 'TTFB', 'LCP']) {
      await expect(view.locator(`tr.vital[data-span-name="web_vital.${vital}"]`).first()).toBeVisible({ timeout: 100 });
    }
    await expect(view.locator(`.edge[data-client="${WEB}"][data-server="${API}"]`)).toBeVisible({ timeout: 100 });
  }, 'the trace page with the whole page view and the edge').toPass({ timeout: 60_000, intervals: [1_000, 2_000] });

  // The rows nest as the spans do: the API's server span is the child of the browser's fetch span.
  const spans = (await (await fetch(`${urls.view}/api/traces/${traceId}`)).json()) as TraceSpan[];
  const fetchSpan = spans.find((s) => s.serviceName === WEB && s.kind === 'client');
  const serverSpan = spans.find((s) => s.serviceName === API && s.kind === 'server');
  expect(serverSpan?.parentSpanId).toBe(fetchSpan?.spanId);
  // And in time: the fetch lies within the document.upload span that made it, though the tab closed before the
  // fetch instrumentation's own end (within 1 ms: span starts are whole milliseconds of Date.now()).
  const upload = spans.find((s) => s.name === 'document.upload');
  const ms = (ns: string | undefined) => Number(BigInt(ns ?? '0') / 1000n) / 1000;
  expect(ms(fetchSpan?.startTimeUnixNano)).toBeGreaterThanOrEqual(ms(upload?.startTimeUnixNano) - 1);
  expect(ms(fetchSpan?.endTimeUnixNano)).toBeLessThanOrEqual(ms(upload?.endTimeUnixNano) + 1);
  return view;
}

test.describe('local mode (npm start without a stack)', () => {
  // Its own demo system, on ports 50 above the run's base so that it runs beside the global setup's.
  let logDir: string;
  let demo: RunningDemo;
  test.beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'rumkit-e2e-local-'));
    demo = await startDemo({ ports: stackPorts(portBaseFromEnv() + 50), logDir });
  });
  test.afterAll(async () => {
    await demo?.stop();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  test('an upload shows in the view as one waterfall across web and api, with its page view and the edge', async ({
    context,
  }) => {
    const view = await uploadAndOpenTrace(context, demo.urls);
    if (process.env.RUMKIT_UPDATE_SCREENSHOTS === '1') {
      await view.setViewportSize({ width: 1200, height: 900 });
      await view.screenshot({ path: join(repoPaths.root, 'docs/trace-view.png'), fullPage: true });
    }
    await view.goto(`${demo.urls.view}/`);
    await expect(view.locator(`.edge[data-client="${WEB}"][data-server="${API}"]`)).toBeVisible();
    await expect(view.getByText('reading from the local store')).toBeVisible();
  });
});

test('with TEMPO_URL the view reads the same waterfall and edge from Tempo', async ({ context }) => {
  const view = await uploadAndOpenTrace(context, e2eUrls());
  await expect(view.getByText(`reading from Tempo at ${e2eUrls().tempo}`)).toBeVisible();
  // The home page's service graph comes from Tempo's search (a structural TraceQL query), not from one trace.
  await view.goto(`${e2eUrls().view}/`);
  await expect(view.locator(`.edge[data-client="${WEB}"][data-server="${API}"]`)).toBeVisible();
});
