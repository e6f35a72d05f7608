/**
 * The edge's own telemetry: one metrics registry with every edge and RUM metric, and its export to the
 * collector as OTLP metrics (`<upstream>/v1/metrics`), which both runtimes call on their own schedule.
 *
 *     const telemetry = createTelemetry(config, Date.now());
 *     await exportMetrics(telemetry, transport, config.upstream, Date.now());
 */
import type { EdgeConfig } from '../config.ts';
import { type ExportResult, exportOnce, type Transport } from '../pipeline/forward.ts';
import { createEdgeMetrics, type EdgeMetrics } from './edgeMetrics.ts';
import { MetricsRegistry } from './registry.ts';

export interface Telemetry {
  registry: MetricsRegistry;
  metrics: EdgeMetrics;
  /** Distinguishes this process or isolate's cumulative series from others'. */
  instanceId: string;
}

export function createTelemetry(config: EdgeConfig, startTimeMs: number): Telemetry {
  const registry = new MetricsRegistry({ maxSeriesPerMetric: config.metrics.maxSeriesPerMetric, startTimeMs });
  return { registry, metrics: createEdgeMetrics(registry), instanceId: crypto.randomUUID() };
}

/** Async, so that a failure to build the body rejects rather than throwing into the timer that called it. */
export async function exportMetrics(
  telemetry: Telemetry,
  transport: Transport,
  upstream: EdgeConfig['upstream'],
  nowMs: number,
): Promise<ExportResult> {
  const { request, delivered } = telemetry.registry.toOtlp(
    { 'service.name': 'rumkit-edge', 'service.instance.id': telemetry.instanceId },
    nowMs,
  );
  const result = await exportOnce(
    transport,
    { ...upstream, scopeOrgId: false },
    { tenant: '', spans: 0, contentType: 'application/json', body: new TextEncoder().encode(JSON.stringify(request)) },
    '/v1/metrics',
  );
  if (result.kind === 'delivered') delivered();
  return result;
}
