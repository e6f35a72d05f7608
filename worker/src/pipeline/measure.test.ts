import type { ExportTraceServiceRequest, KeyValue, Span } from '@rumkit/otlp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEdgeMetrics } from '../telemetry/edgeMetrics.ts';
import { MetricsRegistry } from '../telemetry/registry.ts';
import { typicalBatch } from '../testing/config.ts';
import { endpointOf, isIdLike, measure } from './measure.ts';

const kv = (key: string, value: string | number): KeyValue => ({
  key,
  value:
    typeof value === 'string'
      ? { stringValue: value }
      : Number.isInteger(value)
        ? { intValue: String(value) }
        : { doubleValue: value },
});

function span(name: string, kind: number, attributes: KeyValue[], extra: Partial<Span> = {}): Span {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name,
    kind: kind as Span['kind'],
    startTimeUnixNano: '1000000000',
    endTimeUnixNano: '1250000000',
    attributes: [kv('rumkit.page.route', '/products/:id'), ...attributes],
    ...extra,
  };
}

function batch(spans: Span[]): ExportTraceServiceRequest {
  return { resourceSpans: [{ resource: { attributes: [kv('service.name', 'shop-web')] }, scopeSpans: [{ spans }] }] };
}

function measured(request: ExportTraceServiceRequest): string {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: 100, startTimeMs: 0 });
  measure(request, 'shop', createEdgeMetrics(registry));
  return registry.renderPrometheus();
}

describe('measure', () => {
  it('turns web-vital spans into histograms in seconds (CLS unitless) and ratings', () => {
    const text = measured(
      batch([
        span('web_vital.LCP', 1, [
          kv('browser.web_vital.name', 'LCP'),
          kv('browser.web_vital.value', 2300.5),
          kv('browser.web_vital.rating', 'good'),
        ]),
        span('web_vital.CLS', 1, [
          kv('browser.web_vital.name', 'CLS'),
          kv('browser.web_vital.value', 0.3),
          kv('browser.web_vital.rating', 'poor'),
        ]),
      ]),
    );
    const labels = 'tenant="shop",service="shop-web",route="/products/:id"';
    expect(text).toContain(`rumkit_web_vital_lcp_seconds_bucket{${labels},le="2.5"} 1`);
    expect(text).toContain(`rumkit_web_vital_lcp_seconds_bucket{${labels},le="2"} 0`);
    expect(text).toContain(`rumkit_web_vital_lcp_seconds_sum{${labels}} 2.3005`);
    expect(text).toContain(`rumkit_web_vital_cls_bucket{${labels},le="0.5"} 1`);
    expect(text).toContain(`rumkit_web_vital_cls_bucket{${labels},le="0.25"} 0`);
    expect(text).toContain(`rumkit_web_vital_ratings_total{${labels},metric="lcp",rating="good"} 1`);
    expect(text).toContain(`rumkit_web_vital_ratings_total{${labels},metric="cls",rating="poor"} 1`);
  });

  it("takes a vital named like an object's own member for no vital, and measures the rest", () => {
    const named = (name: string) =>
      span(`web_vital.${name}`, 1, [kv('browser.web_vital.name', name), kv('browser.web_vital.value', 1)]);
    const text = measured(
      batch([
        ...['toString', '__proto__', 'constructor', 'hasOwnProperty'].map(named),
        span('legacy', 1, [kv('web_vital.name', 'valueOf'), kv('web_vital.value', 1)]),
        span('web_vital.LCP', 1, [kv('browser.web_vital.name', 'LCP'), kv('browser.web_vital.value', 1200)]),
      ]),
    );
    expect(text).toContain(
      'rumkit_web_vital_lcp_seconds_count{tenant="shop",service="shop-web",route="/products/:id"} 1',
    );
  });

  it('never throws on whatever a sender names its vitals (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.double(), (name, value) => {
        measured(batch([span('v', 1, [kv('browser.web_vital.name', name), kv('browser.web_vital.value', value)])]));
      }),
    );
  });

  it('measures fetch spans by endpoint and status class, counting network errors as error', () => {
    const text = measured(
      batch([
        span('GET', 3, [
          kv('http.request.method', 'GET'),
          kv('url.full', 'https://api.example.com/users/42/orders?x=1'),
          kv('http.response.status_code', 404),
        ]),
        span('POST', 3, [kv('http.request.method', 'POST'), kv('url.full', 'https://api.example.com/upload')]),
      ]),
    );
    expect(text).toContain(
      'rumkit_fetch_duration_seconds_count{tenant="shop",service="shop-web",endpoint="GET api.example.com/users/:id/orders",status_class="4xx"} 1',
    );
    expect(text).toContain(
      'rumkit_fetch_duration_seconds_sum{tenant="shop",service="shop-web",endpoint="POST api.example.com/upload",status_class="error"} 0.25',
    );
  });

  it('counts JS errors by type and page views', () => {
    const text = measured(
      batch([
        span('documentLoad', 1, []),
        span('click', 1, [], {
          events: [
            { name: 'exception', timeUnixNano: '1', attributes: [kv('exception.type', 'TypeError')] },
            { name: 'exception', timeUnixNano: '2', attributes: [kv('exception.type', 'TypeError')] },
            { name: 'other', timeUnixNano: '3' },
          ],
        }),
      ]),
    );
    expect(text).toContain(
      'rumkit_js_errors_total{tenant="shop",service="shop-web",route="/products/:id",type="TypeError"} 2',
    );
    expect(text).toContain('rumkit_page_views_total{tenant="shop",service="shop-web",route="/products/:id"} 1');
  });

  it('counts page_view spans, and collapses the ids of routes the app never named (raw paths)', () => {
    const view = (route: string) => span('page_view', 1, [], { attributes: [kv('rumkit.page.route', route)] });
    const text = measured(batch([view('/docs/123456'), view('/docs/987654'), view('/docs/:slug'), view('home')]));
    expect(text).toContain('rumkit_page_views_total{tenant="shop",service="shop-web",route="/docs/:id"} 2');
    expect(text).toContain('rumkit_page_views_total{tenant="shop",service="shop-web",route="/docs/:slug"} 1');
    expect(text).toContain('rumkit_page_views_total{tenant="shop",service="shop-web",route="home"} 1');
  });

  it('reads the typical agent batch: 5 vitals, 25 fetches, 1 page view', () => {
    const text = measured(typicalBatch());
    const total = (prefix: string) =>
      [...text.matchAll(new RegExp(`^${prefix}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    expect(total('rumkit_web_vital_(?:lcp|inp|fcp|ttfb)_seconds_count') + total('rumkit_web_vital_cls_count')).toBe(5);
    expect(total('rumkit_fetch_duration_seconds_count')).toBe(25);
    expect(total('rumkit_page_views_total')).toBe(1);
  });
});

describe('endpointOf', () => {
  it.each([
    ['GET', 'https://api.example.com/v2/cart', undefined, 'GET api.example.com/v2/cart'],
    [
      'get',
      'https://API.example.com/items/0af76519-16cd-43dd-8448-eb211c80319c',
      undefined,
      'GET api.example.com/items/:id',
    ],
    ['GET', 'https://x.example/a/deadbeefcafe/b', 'cdn.example', 'GET cdn.example/a/:id/b'],
    ['GET', 'https://x.example/users/[email]/orders', undefined, 'GET x.example/users/:id/orders'],
    ['GET', undefined, undefined, 'GET unknown/'],
    ['GET', 'https://user:pw@Shop.example.com/a/b?c=1/2#x', undefined, 'GET shop.example.com/a/b'],
    ['GET', 'https://x.example/1/2/3/4/5/6/7/8/9', undefined, 'GET x.example/:id/:id/:id/:id/:id/:id/:id'],
    ['GET', 'HTTPS://x.example', undefined, 'GET x.example/'],
    ['GET', '/relative/42', undefined, 'GET unknown/'],
    [
      'GET',
      'https://x.example/orders/abcdefab-abcd-abcd-abcd-abcdefabcdef/items',
      undefined,
      'GET x.example/orders/:id/items',
    ],
  ])('%s %s → %s', (method, url, server, expected) => {
    expect(endpointOf(method, url, server)).toBe(expected);
  });
});

describe('isIdLike', () => {
  /** What an id is, as regular expressions: the hand-written check must agree with it. */
  const isIdByDefinition = (segment: string) =>
    /^\d+$/.test(segment) ||
    /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(segment) ||
    /^[0-9a-f]{8,}$/i.test(segment) ||
    (segment.length >= 16 && /\d/.test(segment)) ||
    segment.startsWith('[');

  it('agrees with the definition by regular expressions (property)', () => {
    const segment = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFgz-[._'), maxLength: 40 }),
      fc.constantFrom('0af76519-16cd-43dd-8448-eb211c80319c', 'abcdefab-abcd-abcd-abcd-abcdefabcdef', ''),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(segment, (s) => {
        expect(isIdLike(s)).toBe(isIdByDefinition(s));
      }),
      { numRuns: 5000 },
    );
  });
});
