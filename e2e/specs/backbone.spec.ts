/**
 * The backbone, end to end on the real components: a document uploaded in Chromium is one trace from
 * the browser's fetch span through the edge worker and the collector into Tempo, under which the API's
 * server span and its OCR spans hang; Tempo's metrics-generator turns the pair into the web → api edge
 * of the service map in Prometheus. Trace context goes only to the origins the page lists. Both forms of
 * the agent are covered: the React page and the plain-HTML page that loads it by script tag.
 */
import { expect, test } from '@playwright/test';
import { createTempoSource } from '../../demo/traceView/tempoSource.ts';
import type { SpanQuery, TraceSource, TraceSpan } from '../../demo/traceView/traceSource.ts';
import { closeTab, DEMO_PAGES, uploadDocument } from '../harness/demoPage.ts';
import { type E2eUrls, e2eUrls } from '../harness/e2eUrls.ts';
import { DEMO_TENANT } from '../harness/startDemo.ts';
import { pollUntil } from '../stack/pollUntil.ts';
import { queryVector } from '../stack/prometheusClient.ts';

// Read when the tests run: the global setup that starts the services sets them (listing tests does not).
let urls: E2eUrls;
let tempo: TraceSource;
test.beforeAll(() => {
  urls = e2eUrls();
  tempo = createTempoSource({ url: urls.tempo, tenant: DEMO_TENANT });
});
const WEB = 'rumkit-demo-web';
const API = 'rumkit-demo-api';
const THIRD_PARTY = 'rumkit-demo-thirdparty';

function traceWith(traceId: string, complete: (spans: TraceSpan[]) => boolean) {
  return pollUntil(
    `trace ${traceId} in Tempo`,
    async () => {
      const spans = await tempo.getTrace(traceId);
      if (!spans) return undefined;
      if (!complete(spans)) {
        throw new Error(`incomplete so far: ${spans.map((s) => `${s.serviceName}/${s.kind}/${s.name}`).join(', ')}`);
      }
      return spans;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
}

/** Traces that match, from `sinceSeconds` on, once Tempo has at least one. */
function tracesMatching(description: string, query: SpanQuery, sinceSeconds: number) {
  return pollUntil(
    description,
    async () => {
      const hits = await tempo.search({ ...query, startSeconds: sinceSeconds - 5, endSeconds: Date.now() / 1000 + 5 });
      return hits.length > 0 ? hits : undefined;
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

const isUploadFetch = (s: TraceSpan) =>
  s.serviceName === WEB && s.kind === 'client' && String(s.attributes['url.full']).endsWith('/api/documents');

for (const { form, path } of DEMO_PAGES) {
  test(`${form}: an upload is one trace from the browser fetch to the API and its OCR spans, and draws the web → api edge`, async ({
    page,
  }) => {
    const testStart = Date.now() / 1000;
    const edgesBefore = await edgeCount(API);
    const { traceId } = await uploadDocument(page, `${urls.web}${path}`);
    // The agent asked the worker for its key's sampling rate (GET /v1/config: key, origin and CORS) and kept it.
    await expect
      .poll(() =>
        page.evaluate(() =>
          // One key per edge and key (`rumkit.rate.<scope>`); the demo page has one agent.
          Object.keys(localStorage)
            .filter((key) => key.startsWith('rumkit.rate.'))
            .map((key) => localStorage.getItem(key)),
        ),
      )
      .toEqual(['1']);
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

    // The documentLoad span of the very page view that uploaded, not any page's.
    const pageView = String(fetchSpan?.attributes['rumkit.page_view.id']);
    expect(pageView).toMatch(/^[0-9a-f]{16,}$/);
    const documentLoads = await tracesMatching(
      'the documentLoad span of the uploading page view in Tempo',
      { serviceName: WEB, name: 'documentLoad', attributes: { 'rumkit.page_view.id': pageView } },
      testStart,
    );
    expect(documentLoads.length).toBeGreaterThan(0);

    const edges = await pollUntil(
      'the web → api service-graph edge of this upload in Prometheus',
      async () => {
        const count = await edgeCount(API);
        return count > edgesBefore ? count : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    expect(edges).toBeGreaterThan(edgesBefore);
  });
}

test('a fetch to an origin that is not listed carries no traceparent and draws no edge', async ({ page }) => {
  const testStart = Date.now() / 1000;
  const apiEdgesBefore = await edgeCount(API);
  await page.goto(urls.web);
  await page.getByRole('button', { name: /third-party/ }).click();
  await expect(page.locator('#status-result')).toHaveText('operational');
  // The same page still propagates to its own API: the control that makes the absence below meaningful.
  const { traceId } = await uploadDocument(page, urls.web);
  await closeTab(page);

  const seen = (await (await fetch(`${urls.thirdParty}/api/seen-traceparents`)).json()) as (string | null)[];
  expect(seen.length, 'the third party was called').toBeGreaterThan(0);
  expect(seen.every((header) => header === null)).toBe(true);

  // The browser traced the call (a CLIENT span exists) — it just did not hand its context over.
  await tracesMatching(
    'the browser span of the third-party call in Tempo',
    { serviceName: WEB, attributes: { 'url.full': { endsWith: '/api/status' } } },
    testStart,
  );
  // The third party's server spans of the page's call are roots of their own traces. (By path: this test's own
  // request for the headers it saw, and the readiness polls, make server spans there too.)
  const thirdPartyTraces = await tracesMatching(
    'the third-party server span of /api/status in Tempo',
    { serviceName: THIRD_PARTY, kind: 'server', attributes: { 'url.path': '/api/status' } },
    testStart,
  );
  for (const hit of thirdPartyTraces) {
    // Found by the search, so Tempo has it: a trace it would not return must fail here, not pass as empty.
    const spans = await tempo.getTrace(hit.traceId);
    expect(spans?.map((s) => s.serviceName)).toContain(THIRD_PARTY);
    expect(spans?.map((s) => s.serviceName)).not.toContain(WEB);
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
