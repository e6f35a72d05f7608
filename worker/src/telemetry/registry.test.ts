import { describe, expect, it } from 'vitest';
import { MAX_LABEL_LENGTH, MetricsRegistry, prometheusName } from './registry.ts';

describe('prometheusName', () => {
  it('gives the names the collector’s prometheusremotewrite exporter gives', () => {
    expect(prometheusName('rumkit.edge.requests', '{request}', 'counter')).toBe('rumkit_edge_requests_total');
    expect(prometheusName('rumkit.edge.request.duration', 's', 'histogram')).toBe(
      'rumkit_edge_request_duration_seconds',
    );
    expect(prometheusName('rumkit.edge.queue.bytes', 'By', 'gauge')).toBe('rumkit_edge_queue_bytes');
    expect(prometheusName('rumkit.edge.queue.depth', '{batch}', 'gauge')).toBe('rumkit_edge_queue_depth');
    expect(prometheusName('rumkit.web_vital.cls', '', 'histogram')).toBe('rumkit_web_vital_cls');
    expect(prometheusName('rumkit.js_errors', '{error}', 'counter')).toBe('rumkit_js_errors_total');
  });
});

describe('MetricsRegistry', () => {
  const make = () => new MetricsRegistry({ maxSeriesPerMetric: 3, startTimeMs: 1000 });

  it('renders counters, histograms and gauges as Prometheus text', () => {
    const registry = make();
    const requests = registry.counter({
      name: 'x.requests',
      unit: '{request}',
      help: 'Requests',
      labels: ['tenant', 'outcome'],
    });
    const duration = registry.histogram({
      name: 'x.duration',
      unit: 's',
      help: 'Time',
      labels: ['tenant'],
      buckets: [0.1, 1],
    });
    registry.gauge({ name: 'x.queue.depth', unit: '{batch}', help: 'Depth', labels: [] }, () => 7);
    requests.add({ tenant: 'a"b', outcome: 'accepted' });
    requests.add({ tenant: 'a"b', outcome: 'accepted' }, 2);
    duration.observe({ tenant: 't' }, 0.05);
    duration.observe({ tenant: 't' }, 0.5);
    duration.observe({ tenant: 't' }, 5);
    expect(registry.renderPrometheus()).toBe(
      [
        '# HELP x_requests_total Requests',
        '# TYPE x_requests_total counter',
        'x_requests_total{tenant="a\\"b",outcome="accepted"} 3',
        '# HELP x_duration_seconds Time',
        '# TYPE x_duration_seconds histogram',
        'x_duration_seconds_bucket{tenant="t",le="0.1"} 1',
        'x_duration_seconds_bucket{tenant="t",le="1"} 2',
        'x_duration_seconds_bucket{tenant="t",le="+Inf"} 3',
        'x_duration_seconds_sum{tenant="t"} 5.55',
        'x_duration_seconds_count{tenant="t"} 3',
        '# HELP x_queue_depth Depth',
        '# TYPE x_queue_depth gauge',
        'x_queue_depth 7',
        '',
      ].join('\n'),
    );
  });

  it('folds label sets past the cap into one "other" series that keeps the tenant', () => {
    const registry = make();
    const errors = registry.counter({ name: 'x.errors', unit: '{error}', help: 'E', labels: ['tenant', 'type'] });
    for (let i = 0; i < 100; i++) errors.add({ tenant: 'shop', type: `Error${i}` });
    // Series made before the cap keep counting; a folded label set stays folded.
    errors.add({ tenant: 'shop', type: 'Error0' });
    errors.add({ tenant: 'shop', type: 'Error99' });
    const text = registry.renderPrometheus();
    expect(text.match(/^x_errors_total/gm)).toHaveLength(4);
    expect(text).toContain('x_errors_total{tenant="shop",type="Error0"} 2');
    expect(text).toContain('x_errors_total{tenant="shop",type="other"} 98');
  });

  it("caps each tenant on its own: one tenant's invented label values never fold another's", () => {
    const registry = make();
    const errors = registry.counter({ name: 'x.errors', unit: '{error}', help: 'E', labels: ['tenant', 'type'] });
    for (let i = 0; i < 100; i++) errors.add({ tenant: 'shop', type: `Junk${i}` });
    errors.add({ tenant: 'blog', type: 'TypeError' });
    const text = registry.renderPrometheus();
    expect(text).toContain('x_errors_total{tenant="blog",type="TypeError"} 1');
    expect(text).not.toContain('x_errors_total{tenant="blog",type="other"}');
  });

  it('cuts label values a sender names to MAX_LABEL_LENGTH characters; label sets equal once cut share a series', () => {
    const registry = make();
    const views = registry.counter({ name: 'x.views', unit: '{view}', help: 'V', labels: ['tenant', 'route'] });
    const long = `/${'a'.repeat(4095)}`;
    views.add({ tenant: 'shop', route: long });
    views.add({ tenant: 'shop', route: `${long.slice(0, MAX_LABEL_LENGTH)}/other` });
    const text = registry.renderPrometheus();
    expect(text).toContain(`x_views_total{tenant="shop",route="${long.slice(0, MAX_LABEL_LENGTH)}"} 2`);
    expect(text.length).toBeLessThan(1_000);
  });

  it('exports the same numbers as cumulative OTLP metrics', () => {
    const registry = make();
    registry.counter({ name: 'x.requests', unit: '{request}', help: 'R', labels: ['tenant'] }).add({ tenant: 't' }, 4);
    registry
      .histogram({ name: 'x.d', unit: 's', help: 'D', labels: ['tenant'], buckets: [1] })
      .observe({ tenant: 't' }, 2);
    const exported = registry.toOtlp({ 'service.name': 'rumkit-edge' }, 2000);
    exported.delivered();
    const [sum, histogram] = metricsOf(registry.toOtlp({ 'service.name': 'rumkit-edge' }, 3000).request);
    expect(sum).toMatchObject({
      name: 'x.requests',
      unit: '{request}',
      sum: {
        aggregationTemporality: 2,
        isMonotonic: true,
        dataPoints: [{ asDouble: 4, startTimeUnixNano: '1000000000', timeUnixNano: '3000000000' }],
      },
    });
    expect(histogram).toMatchObject({
      histogram: { dataPoints: [{ count: '1', sum: 2, bucketCounts: ['0', '1'], explicitBounds: [1] }] },
    });
  });

  it('sends a new series with a zero point first, until a collector has taken it, so that rate() sees its first value', () => {
    const registry = make();
    const drops = registry.counter({ name: 'x.dropped', unit: '{span}', help: 'D', labels: ['tenant'] });
    const latency = registry.histogram({ name: 'x.d', unit: 's', help: 'D', labels: ['tenant'], buckets: [1] });
    drops.add({ tenant: 'a' }, 500);
    latency.observe({ tenant: 'a' }, 2);
    const points = (request: unknown) =>
      metricsOf(request).map((m) => {
        const { dataPoints } = (m.sum ?? m.histogram) as { dataPoints: Record<string, unknown>[] };
        return dataPoints.map(
          (p) =>
            `${p.attributes && (p.attributes as KeyValueJson[])[0]?.value.stringValue}@${p.timeUnixNano}=${p.asDouble ?? p.count}`,
        );
      });
    const zeroFirst = [
      ['a@1999000000=0', 'a@2000000000=500'],
      ['a@1999000000=0', 'a@2000000000=1'],
    ];
    expect(points(registry.toOtlp({}, 2000).request)).toEqual(zeroFirst);
    // That export failed: the next one announces the series again.
    const retried = registry.toOtlp({}, 2000);
    expect(points(retried.request)).toEqual(zeroFirst);
    retried.delivered();
    drops.add({ tenant: 'b' }, 7);
    expect(points(registry.toOtlp({}, 4000).request)).toEqual([
      ['a@4000000000=500', 'b@3999000000=0', 'b@4000000000=7'],
      ['a@4000000000=1'],
    ]);
  });
});

interface KeyValueJson {
  value: { stringValue: string };
}

function metricsOf(request: unknown): Record<string, unknown>[] {
  return (request as { resourceMetrics: [{ scopeMetrics: [{ metrics: Record<string, unknown>[] }] }] })
    .resourceMetrics[0].scopeMetrics[0].metrics;
}
