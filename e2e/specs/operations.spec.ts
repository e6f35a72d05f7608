/**
 * The operator's view on the real stack, after the demo specs have filled it (playwright.config.ts runs
 * this project after theirs): every PromQL expression of the Grafana dashboards (their service map's
 * included), of the Tempo data source's links from a span to its metrics and of the alert rules runs on
 * this run's Prometheus without error, and every dashboard panel and span link shows data; Prometheus evaluates
 * every rule; the worker is scraped while its metrics are counted once; the collector refuses writers
 * without its token, masks personal data in backend spans and keeps each tenant's traces apart; and Tempo's service
 * graph pairs browser spans that arrive late or old, as deploy/tempo/tempo.yaml's windows are there for.
 */
import { expect, test } from '@playwright/test';
import { createTempoSource } from '../../demo/traceView/tempoSource.ts';
import type { TraceSource } from '../../demo/traceView/traceSource.ts';
import { dashboardQueries, type PromQuery, ruleQueries, tracesToMetricsQueries } from '../../deploy/promqlQueries.ts';
import { closeTab } from '../harness/demoPage.ts';
import { type E2eUrls, e2eUrls } from '../harness/e2eUrls.ts';
import { DEMO_TENANT } from '../harness/startDemo.ts';
import { collectorTokenFromEnv } from '../stack/collectorToken.ts';
import { pollUntil } from '../stack/pollUntil.ts';
import { portBaseFromEnv, stackPorts } from '../stack/ports.ts';
import { postTestSpans, type TestSpan, testSpan } from '../stack/postTestSpans.ts';
import { queryRange, queryScalar, queryVector } from '../stack/prometheusClient.ts';

const collectorUrl = `http://127.0.0.1:${stackPorts(portBaseFromEnv()).collectorHttp}`;
// Read when the tests run: the global setup that starts the services sets them (listing tests does not).
let urls: E2eUrls;
let tempo: TraceSource;
test.beforeAll(() => {
  urls = e2eUrls();
  tempo = createTempoSource({ url: urls.tempo, tenant: DEMO_TENANT });
});
/** The stack of one e2e run is fresh, so this window holds everything it recorded. */
const lookBackSeconds = 15 * 60;

/** What Grafana would draw for the query: a finite value somewhere in the range, or in the instant. */
async function showsData(query: PromQuery): Promise<boolean> {
  const endSeconds = Date.now() / 1000;
  if (query.instant) return (await queryVector(urls.prometheus, query.expr)).some((s) => Number.isFinite(s.value));
  const series = await queryRange(urls.prometheus, query.expr, {
    startSeconds: endSeconds - lookBackSeconds,
    endSeconds,
    stepSeconds: 5,
  });
  return series.some((s) => s.values.some(Number.isFinite));
}

test('a visit with an uncaught error and a click reaches the RUM metrics', async ({ page }) => {
  await page.goto(urls.web);
  await page.locator('body').click();
  await page.evaluate(() => {
    setTimeout(() => {
      throw new TypeError('operations check: an uncaught error');
    });
  });
  await closeTab(page);

  const errors = await pollUntil(
    'rumkit_js_errors_total{type="TypeError"} in Prometheus',
    async () => {
      const count = await queryScalar(urls.prometheus, 'sum(rumkit_js_errors_total{type="TypeError"})');
      return count && count > 0 ? count : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 2_000 },
  );
  expect(errors).toBeGreaterThan(0);
});

test('every dashboard, data source and rule expression runs, and what a healthy run fills shows data', async () => {
  // A link from one of the API's spans to its metrics, as Grafana makes it for the demo's tenant.
  const spanLinks = tracesToMetricsQueries(
    { RUMKIT_GRAFANA_TEMPO_TENANT: DEMO_TENANT },
    { 'service.name': 'rumkit-demo-api' },
  );
  const queries = [...dashboardQueries(), ...spanLinks, ...ruleQueries()];
  const failures = (
    await Promise.all(
      queries.map((query) =>
        showsData(query).then(
          () => undefined,
          (error: Error) => `${query.where}: ${error.message}`,
        ),
      ),
    )
  ).filter(Boolean);
  expect(failures, 'queries Prometheus refused').toEqual([]);

  // Alerts stay out (a healthy run gives them nothing to say), and so do the service map's failed requests.
  const mustShowData = queries.filter((query) => query.expectsData);
  // Until one poll has looked at every query, all of them count as empty: a poll that failed is no pass.
  let empty = mustShowData.map((query) => `${query.where}: not looked at`);
  await pollUntil(
    'every dashboard panel, span link and recording rule to show data',
    async () => {
      const shown = await Promise.all(mustShowData.map(showsData));
      empty = mustShowData.filter((_, i) => !shown[i]).map((query) => `${query.where}: ${query.expr}`);
      if (empty.length) throw new Error(`${empty.length} without data, e.g. ${empty[0]}`);
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 5_000 },
  ).catch(() => undefined);
  expect(empty, 'dashboard queries without data').toEqual([]);
});

test('Prometheus evaluates every rule of deploy/prometheus/rules without error', async () => {
  type RulesResponse = { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
  const rules = await pollUntil(
    'every rule evaluated once',
    async () => {
      const body = (await (await fetch(`${urls.prometheus}/api/v1/rules`)).json()) as RulesResponse;
      const all = body.data.groups.flatMap((group) => group.rules);
      return all.length === ruleQueries().length && all.every((rule) => rule.health !== 'unknown') ? all : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 1_000 },
  );
  expect(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError}`)).toEqual([]);
});

test('the worker is scraped for up and the gauges of its path to the collector, and its other metrics are counted once, from their remote-written copy', async () => {
  expect(await queryScalar(urls.prometheus, 'min(up{job="rumkit-worker"})')).toBe(1);
  // The gauges of the path to the collector must not depend on it; everything else would be counted twice.
  const scraped = await queryVector(
    urls.prometheus,
    'count by (__name__) ({__name__=~"rumkit_.+", job="rumkit-worker"})',
  );
  expect(scraped.map((sample) => sample.metric.__name__).sort()).toEqual([
    'rumkit_edge_circuit_state',
    'rumkit_edge_queue_bytes',
    'rumkit_edge_queue_depth',
    'rumkit_edge_upstream_up',
  ]);
  expect(await queryScalar(urls.prometheus, 'min(rumkit_edge_upstream_up{job="rumkit-worker"})')).toBe(1);
  expect(await queryScalar(urls.prometheus, 'count(rumkit_edge_requests_total{job="rumkit-edge"})')).toBeGreaterThan(0);
});

test('the collector refuses writers without its token, masks personal data and keeps tenants apart', async () => {
  const span = testSpan({
    service: 'rumkit-operations-check',
    name: 'POST /api/orders',
    kind: 'server',
    attributes: {
      'enduser.email': 'jane.doe@example.com',
      'payment.card': '4111 1111 1111 1111',
      // A Mastercard 2-series number (BINs 2221-2720); 2721 is past the range and stays.
      'payment.card_2series': '2223 0031 2200 3222',
      'app.order.reference': '2721 0000 0000 0000',
      'client.address': '203.0.113.7',
      'network.peer.address': '203.0.113.8',
      'url.full': 'https://shop.example.com/api/orders/8812?step=pay',
      'session.id': '4111111111111111',
    },
  });
  // Values of other types, as backends' SDKs send them: semantic conventions make
  // http.request.header.<name> a string array.
  const otherValues: Record<string, OtherValue> = {
    'http.request.header.authorization': ['Basic amFuZTpodW50ZXIy'],
    'http.request.header.cookie': ['sid=8f14e45fceea167a', 'theme=dark'],
    'app.notify.recipients': ['ops-oncall', 'jane.doe@example.com'],
    'app.order.tags': ['checkout', 'card'],
    'payment.card_number': 2223003122003222,
  };
  const { traceId } = span;
  const post = (headers: Record<string, string>) => postSpanWithOtherValues(span, otherValues, headers);
  const token = `Bearer ${collectorTokenFromEnv()}`;

  expect((await post({ 'x-scope-orgid': DEMO_TENANT })).status).toBe(401);
  expect((await post({ 'x-scope-orgid': DEMO_TENANT, authorization: 'Bearer not-the-token' })).status).toBe(401);
  expect((await post({ 'x-scope-orgid': DEMO_TENANT, authorization: token })).status).toBe(200);

  const spans = await pollUntil('the posted span in Tempo', () => tempo.getTrace(traceId), {
    timeoutMs: 30_000,
    intervalMs: 500,
  });
  expect(spans[0]?.attributes).toMatchObject({
    'enduser.email': '****',
    'payment.card': '****',
    'payment.card_2series': '****',
    'app.order.reference': '2721 0000 0000 0000',
    'client.address': '****',
    'network.peer.address': '****',
    'url.full': 'https://shop.example.com/api/orders/8812?step=pay',
    'session.id': '4111111111111111',
    // A blocked key's whole value, array or not, becomes the string '****'.
    'http.request.header.authorization': '****',
    'http.request.header.cookie': '****',
    // A value of another type with a blocked value in it is masked in its JSON or decimal form and stored as
    // that string; one without keeps its type.
    'app.notify.recipients': '["ops-oncall","****"]',
    'app.order.tags': ['checkout', 'card'],
    'payment.card_number': '****',
  });
  expect(
    await createTempoSource({ url: urls.tempo, tenant: `${DEMO_TENANT}-other` }).getTrace(traceId),
  ).toBeUndefined();

  // Without a tenant the collector takes the batch but its Tempo exporter refuses it for good (the
  // tenant_header extension), instead of Tempo's retryable "no org id" holding the queue forever.
  const failedBefore = await exportFailures();
  expect((await post({ authorization: token })).status).toBe(200);
  await pollUntil(
    'the Tempo exporter to give up on the batch without a tenant',
    async () => ((await exportFailures()) > failedBefore ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 1_000 },
  );
});

type OtherValue = string[] | number;

/**
 * Posts `span` as postTestSpans does, with `otherValues` added to its attributes as OTLP/JSON `arrayValue`s of
 * strings and `intValue`s (postTestSpans sends string attributes only).
 */
function postSpanWithOtherValues(
  span: TestSpan,
  otherValues: Record<string, OtherValue>,
  headers: Record<string, string>,
): Promise<Response> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const ago = (ms: number) => String(nowNs - BigInt(ms) * 1_000_000n);
  const anyValue = (value: string | OtherValue) =>
    typeof value === 'string'
      ? { stringValue: value }
      : typeof value === 'number'
        ? { intValue: String(value) }
        : { arrayValue: { values: value.map((element) => ({ stringValue: element })) } };
  const attributes = Object.entries({ ...span.attributes, ...otherValues }).map(([key, value]) => ({
    key,
    value: anyValue(value),
  }));
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: span.service } }] },
        scopeSpans: [
          {
            scope: { name: 'rumkit-stack-check' },
            spans: [
              {
                traceId: span.traceId,
                spanId: span.spanId,
                name: span.name,
                kind: span.kind === 'server' ? 2 : 3,
                startTimeUnixNano: ago(span.startMsAgo),
                endTimeUnixNano: ago(span.endMsAgo),
                attributes,
              },
            ],
          },
        ],
      },
    ],
  };
  return fetch(`${collectorUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function exportFailures(): Promise<number> {
  const failed = 'sum(otelcol_exporter_send_failed_spans{exporter="otlp_http/tempo"})';
  return (await queryScalar(urls.prometheus, failed)) ?? 0;
}

test("Tempo's service graph pairs a browser span that arrives 15 s after its backend's, and one 5 minutes old", async () => {
  const headers = { authorization: `Bearer ${collectorTokenFromEnv()}`, 'x-scope-orgid': DEMO_TENANT };
  const edgeTotal = (client: string) =>
    queryScalar(
      urls.prometheus,
      `sum(traces_service_graph_request_total{client="${client}", server="rumkit-late-api", tenant="${DEMO_TENANT}"})`,
    );
  const pair = (client: string, msAgo: number) => {
    const browser = testSpan({
      service: client,
      name: 'POST',
      kind: 'client',
      startMsAgo: msAgo + 80,
      endMsAgo: msAgo,
    });
    const api = testSpan({
      service: 'rumkit-late-api',
      name: 'POST /api/orders',
      kind: 'server',
      traceId: browser.traceId,
      parentSpanId: browser.spanId,
      startMsAgo: msAgo + 60,
      endMsAgo: msAgo + 10,
    });
    return { browser, api };
  };

  // As the e2e's pages are closed at once, the backend's half usually waits seconds; here it waits 15 s, past
  // the metrics-generator's default 10 s, which deploy/tempo/tempo.yaml raises to 30 s.
  const late = pair('rumkit-late-web', 0);
  expect((await postTestSpans(collectorUrl, [late.api], headers)).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  const browserLate = { ...late.browser, startMsAgo: 15_080, endMsAgo: 15_000 };
  expect((await postTestSpans(collectorUrl, [browserLate], headers)).status).toBe(200);
  // A tab that comes back online sends spans minutes old: within the 10-minute ingestion slack (default 30 s).
  const old = pair('rumkit-old-web', 5 * 60_000);
  expect((await postTestSpans(collectorUrl, [old.browser, old.api], headers)).status).toBe(200);

  for (const client of ['rumkit-late-web', 'rumkit-old-web']) {
    await pollUntil(
      `the ${client} → rumkit-late-api edge`,
      async () => ((await edgeTotal(client)) ?? 0) > 0 || undefined,
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
  }
});
