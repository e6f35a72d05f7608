/**
 * Every metric the edge publishes, by the names the operators' dashboards and alerts query. The
 * Prometheus name of each (on Node's `/metrics`, and after the collector's prometheusremotewrite
 * exporter) is in the comment beside it; every series carries `tenant`.
 *
 *     const metrics = createEdgeMetrics(registry);
 *     metrics.requests.add({ tenant, outcome: 'accepted' });
 */
import type { MetricsRegistry } from './registry.ts';

export type SpanOutcome =
  | 'received'
  | 'accepted'
  | 'rejected'
  | 'sampled_out'
  | 'scrubbed'
  | 'forwarded'
  | 'forward_failed'
  | 'dropped';

/** Around the web-vitals "good" and "poor" thresholds (LCP 2.5/4 s, INP 200/500 ms, …), in seconds. */
const LCP_BUCKETS = [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20];
const INP_BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5];
const FCP_BUCKETS = [0.25, 0.5, 1, 1.5, 1.8, 2.5, 3, 4, 6, 10];
const TTFB_BUCKETS = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.4, 1.8, 2.5, 5];
const CLS_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1];
const FETCH_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const FORWARD_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const vital = (name: string, unit: string, buckets: number[], what: string) => ({
  name: `rumkit.web_vital.${name}`,
  unit,
  help: `${what} reported by browsers, from every accepted span before sampling`,
  labels: ['tenant', 'service', 'route'] as const,
  buckets,
});

export function createEdgeMetrics(registry: MetricsRegistry) {
  return {
    /** rumkit_edge_requests_total{tenant,outcome} */
    requests: registry.counter<'tenant' | 'outcome'>({
      name: 'rumkit.edge.requests',
      unit: '{request}',
      help: 'Ingest requests by outcome',
      labels: ['tenant', 'outcome'],
    }),
    /** rumkit_edge_spans_total{tenant,outcome} */
    spans: registry.counter<'tenant' | 'outcome'>({
      name: 'rumkit.edge.spans',
      unit: '{span}',
      help: 'Spans by outcome: received, accepted, rejected, sampled_out, scrubbed (something redacted in it), forwarded, forward_failed, dropped',
      labels: ['tenant', 'outcome'],
    }),
    /** rumkit_edge_spans_undelivered_total{tenant,reason}: the forward_failed and dropped spans, by why */
    undelivered: registry.counter<'tenant' | 'reason'>({
      name: 'rumkit.edge.spans.undelivered',
      unit: '{span}',
      help: 'Accepted spans the edge will not deliver, by reason: refused_<status>, refused_other, retries_exhausted, stopped',
      labels: ['tenant', 'reason'],
    }),
    /** rumkit_edge_redactions_total{tenant,rule} */
    redactions: registry.counter<'tenant' | 'rule'>({
      name: 'rumkit.edge.redactions',
      unit: '{redaction}',
      help: 'Values redacted by the scrubber, by rule',
      labels: ['tenant', 'rule'],
    }),
    /** rumkit_edge_request_duration_seconds{tenant} */
    requestDuration: registry.histogram<'tenant'>({
      name: 'rumkit.edge.request.duration',
      unit: 's',
      help: 'Time from request arrival to response, ingest routes',
      labels: ['tenant'],
      buckets: REQUEST_BUCKETS,
    }),
    /** rumkit_edge_forward_duration_seconds{tenant} */
    forwardDuration: registry.histogram<'tenant'>({
      name: 'rumkit.edge.forward.duration',
      unit: 's',
      help: 'Time of one upstream export attempt',
      labels: ['tenant'],
      buckets: FORWARD_BUCKETS,
    }),
    /** rumkit_web_vital_{lcp,inp,fcp,ttfb}_seconds and rumkit_web_vital_cls{tenant,service,route} */
    webVitals: {
      LCP: registry.histogram(vital('lcp', 's', LCP_BUCKETS, 'Largest Contentful Paint')),
      INP: registry.histogram(vital('inp', 's', INP_BUCKETS, 'Interaction to Next Paint')),
      FCP: registry.histogram(vital('fcp', 's', FCP_BUCKETS, 'First Contentful Paint')),
      TTFB: registry.histogram(vital('ttfb', 's', TTFB_BUCKETS, 'Time to First Byte')),
      // Unitless, and without a unit so that no exporter appends a suffix to the name.
      CLS: registry.histogram(vital('cls', '', CLS_BUCKETS, 'Cumulative Layout Shift (unitless)')),
    },
    /** rumkit_web_vital_ratings_total{tenant,service,route,metric,rating} */
    webVitalRatings: registry.counter<'tenant' | 'service' | 'route' | 'metric' | 'rating'>({
      name: 'rumkit.web_vital.ratings',
      unit: '{rating}',
      help: 'Web-vital reports by rating (good, needs-improvement, poor)',
      labels: ['tenant', 'service', 'route', 'metric', 'rating'],
    }),
    /** rumkit_fetch_duration_seconds{tenant,service,endpoint,status_class} */
    fetchDuration: registry.histogram<'tenant' | 'service' | 'endpoint' | 'status_class'>({
      name: 'rumkit.fetch.duration',
      unit: 's',
      help: 'Browser fetch/XHR duration by endpoint (method, host, path with ids collapsed)',
      labels: ['tenant', 'service', 'endpoint', 'status_class'],
      buckets: FETCH_BUCKETS,
    }),
    /** rumkit_js_errors_total{tenant,service,route,type} */
    jsErrors: registry.counter<'tenant' | 'service' | 'route' | 'type'>({
      name: 'rumkit.js_errors',
      unit: '{error}',
      help: 'JavaScript errors (span events named exception) by type',
      labels: ['tenant', 'service', 'route', 'type'],
    }),
    /** rumkit_page_views_total{tenant,service,route} */
    pageViews: registry.counter<'tenant' | 'service' | 'route'>({
      name: 'rumkit.page_views',
      unit: '{view}',
      help: 'Page views (documentLoad or page_view spans)',
      labels: ['tenant', 'service', 'route'],
    }),
  };
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;

/** rumkit_edge_queue_depth, rumkit_edge_queue_bytes, rumkit_edge_upstream_up, rumkit_edge_circuit_state */
export function registerForwardGauges(
  registry: MetricsRegistry,
  read: { queueDepth: () => number; queueBytes: () => number; upstreamUp: () => number; circuitState: () => number },
): void {
  registry.gauge(
    { name: 'rumkit.edge.queue.depth', unit: '{batch}', help: 'Batches waiting to be forwarded', labels: [] },
    read.queueDepth,
  );
  registry.gauge(
    { name: 'rumkit.edge.queue.bytes', unit: 'By', help: 'Bytes waiting to be forwarded', labels: [] },
    read.queueBytes,
  );
  registry.gauge(
    { name: 'rumkit.edge.upstream.up', unit: '{state}', help: '1 when the last upstream export succeeded', labels: [] },
    read.upstreamUp,
  );
  registry.gauge(
    {
      name: 'rumkit.edge.circuit.state',
      unit: '{state}',
      help: 'Upstream circuit breaker: 0 closed, 1 half-open, 2 open',
      labels: [],
    },
    read.circuitState,
  );
}
