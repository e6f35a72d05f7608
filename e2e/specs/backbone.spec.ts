/**
 * The backbone, end to end on the real components: a document uploaded in Chromium is one trace from
 * the browser's fetch span through the edge worker and the collector into Tempo, under which the API's
 * server span and its OCR spans hang; Tempo's metrics-generator turns the pair into the web → api edge
 * of the service map in Prometheus. Trace context goes only to the origins the page lists.
 */
import { expect, type Page, test } from '@playwright/test';
import { type E2eUrls, e2eUrls } from '../harness/e2eUrls.ts';
import { DEMO_TENANT } from '../harness/startDemo.ts';
import { pollUntil } from '../stack/pollUntil.ts';
import { queryVector } from '../stack/prometheusClient.ts';
import { getTrace, searchTraces, type TempoSpan, type TempoTarget } from '../stack/tempoClient.ts';

// Read when the tests run: the global setup that starts the services sets them (listing tests does not).
let urls: E2eUrls;
let tempo: TempoTarget;
test.beforeAll(() => {
  urls = e2eUrls();
  tempo = { url: urls.tempo, tenant: DEMO_TENANT };
});
const WEB = 'rumkit-demo-web';
const API = 'rumkit-demo-api';
const THIRD_PARTY = 'rumkit-demo-thirdparty';

/** Uploads a small text document through the demo page and returns the trace id the API reported. */
async function uploadDocument(page: Page): Promise<string> {
  await page.goto(urls.web);
  await page.locator('#file').setInputFiles({
    name: 'invoice-42.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('Invoice 42\nTotal due: 99.00 EUR\n'.repeat(400)),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  const traceLink = page.locator('#result-trace');
  await expect(traceLink).toHaveText(/^[0-9a-f]{32}$/);
  return (await traceLink.textContent()) as string;
}

/** Closing the tab is what users do; the agent must deliver what it holds on pagehide. */
async function closeTab(page: Page): Promise<void> {
  // With runBeforeUnload, close() returns before the page has gone; wait for that too.
  await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);
}

function traceWith(traceId: string, complete: (spans: TempoSpan[]) => boolean) {
  return pollUntil(
    `trace ${traceId} in Tempo`,
    async () => {
      const spans = await getTrace(tempo, traceId);
      if (!spans) return undefined;
      if (!complete(spans)) {
        throw new Error(`incomplete so far: ${spans.map((s) => `${s.serviceName}/${s.kind}/${s.name}`).join(', ')}`);
      }
      return spans;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

/** The web → api edge counter as Prometheus holds it now (0 before the first edge). */
async function edgeCount(server: string): Promise<number> {
  const samples = await queryVector(
    urls.prometheus,
    `traces_service_graph_request_total{client="${WEB}",server="${server}"}`,
  );
  return samples.reduce((sum, s) => sum + s.value, 0);
}

const isUploadFetch = (s: TempoSpan) =>
  s.serviceName === WEB && s.kind === 'client' && String(s.attributes['url.full']).endsWith('/api/documents');

test('an upload is one trace from the browser fetch to the API and its OCR spans, and draws the web → api edge', async ({
  page,
}) => {
  const testStart = Date.now() / 1000;
  const traceId = await uploadDocument(page);
  await closeTab(page);

  const spans = await traceWith(traceId, (all) => all.some(isUploadFetch) && all.some((s) => s.name === 'ocr.job'));
  const fetchSpan = spans.find(isUploadFetch);
  expect(fetchSpan, 'the browser fetch span, kind CLIENT, of rumkit-demo-web').toBeDefined();
  expect(fetchSpan?.attributes['http.request.method']).toBe('POST');

  const serverSpan = spans.find((s) => s.serviceName === API && s.kind === 'server');
  expect(serverSpan, 'the API server span').toBeDefined();
  expect(serverSpan?.parentSpanId, 'the server span hangs exactly under the browser fetch span').toBe(
    fetchSpan?.spanId,
  );

  const ocrJob = spans.find((s) => s.name === 'ocr.job');
  expect(ocrJob?.parentSpanId).toBe(serverSpan?.spanId);
  const ocrSteps = spans.filter((s) => s.parentSpanId === ocrJob?.spanId).map((s) => s.name);
  expect(ocrSteps).toEqual(expect.arrayContaining(['ocr.preprocess', 'ocr.extract_text', 'INSERT documents']));

  const documentLoads = await pollUntil(
    'the documentLoad span of rumkit-demo-web in Tempo',
    async () => {
      const hits = await searchTraces(tempo, `{ resource.service.name = "${WEB}" && name = "documentLoad" }`, {
        startSeconds: testStart - 5,
        endSeconds: Date.now() / 1000 + 5,
      });
      return hits.length > 0 ? hits : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  expect(documentLoads.length).toBeGreaterThan(0);

  const edges = await pollUntil(
    'the web → api service-graph edge in Prometheus',
    async () => {
      const count = await edgeCount(API);
      return count > 0 ? count : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 2_000 },
  );
  expect(edges).toBeGreaterThan(0);
});

test('a fetch to an origin that is not listed carries no traceparent and draws no edge', async ({ page }) => {
  const testStart = Date.now() / 1000;
  const apiEdgesBefore = await edgeCount(API);
  await page.goto(urls.web);
  await page.getByRole('button', { name: /third-party/ }).click();
  await expect(page.locator('#status-result')).toHaveText('operational');
  // The same page still propagates to its own API: the control that makes the absence below meaningful.
  const traceId = await uploadDocument(page);
  await closeTab(page);

  const seen = (await (await fetch(`${urls.thirdParty}/api/seen-traceparents`)).json()) as (string | null)[];
  expect(seen.length, 'the third party was called').toBeGreaterThan(0);
  expect(seen.every((header) => header === null)).toBe(true);

  // The browser traced the call (a CLIENT span exists) — it just did not hand its context over.
  await pollUntil(
    'the browser span of the third-party call in Tempo',
    async () => {
      const hits = await searchTraces(
        tempo,
        `{ resource.service.name = "${WEB}" && span.url.full =~ ".*/api/status" }`,
        { startSeconds: testStart - 5, endSeconds: Date.now() / 1000 + 5 },
      );
      return hits.length > 0 ? hits : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  // The third party's server spans are roots of their own traces.
  const thirdPartyTraces = await pollUntil(
    'the third-party server span in Tempo',
    async () => {
      const hits = await searchTraces(tempo, `{ resource.service.name = "${THIRD_PARTY}" && kind = server }`, {
        startSeconds: testStart - 5,
        endSeconds: Date.now() / 1000 + 5,
      });
      return hits.length > 0 ? hits : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  for (const hit of thirdPartyTraces) {
    const spans = (await getTrace(tempo, hit.traceId)) ?? [];
    expect(spans.map((s) => s.serviceName)).not.toContain(WEB);
  }

  // Once the upload's web → api edge is counted, an edge to the third party would have been too.
  await traceWith(traceId, (all) => all.some(isUploadFetch) && all.some((s) => s.serviceName === API));
  await pollUntil(
    'the web → api edge of this run',
    async () => ((await edgeCount(API)) > apiEdgesBefore ? true : undefined),
    { timeoutMs: 90_000, intervalMs: 2_000 },
  );
  expect(await edgeCount(THIRD_PARTY)).toBe(0);
});
