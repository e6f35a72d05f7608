import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboardQueries, panelsOf, readDashboards, ruleQueries, tracesToMetricsQueries } from '../promqlQueries.ts';
import { runTool } from '../testing/runTool.ts';

const provisioning = join(import.meta.dirname, 'provisioning');
type Datasource = { uid: string; type: string; jsonData?: Record<string, unknown>; secureJsonData?: object };
const { datasources } = parse(readFileSync(join(provisioning, 'datasources/rumkit.yaml'), 'utf8')) as {
  datasources: Datasource[];
};
const dashboards = readDashboards();

describe('Grafana dashboards', () => {
  it('are the real-user-monitoring and worker-operations dashboards, with distinct uids', () => {
    expect(dashboards.map(({ dashboard }) => dashboard.title).sort()).toEqual([
      'Real user monitoring',
      'rumkit worker operations',
    ]);
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length);
  });

  it('query only the provisioned data sources', () => {
    const uids = new Set(datasources.map((datasource) => datasource.uid));
    const strays = dashboards.flatMap(({ file, dashboard }) =>
      panelsOf(dashboard)
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) =>
          (panel.targets ?? []).map((target) => ({
            where: `${file} › ${panel.title}`,
            uid: (target.datasource ?? panel.datasource)?.uid,
          })),
        )
        .filter(({ uid }) => !uid || !uids.has(uid)),
    );
    expect(strays).toEqual([]);
  });

  it('ask for table-formatted results only in table panels, which alone can show them', () => {
    // Grafana merges a table-formatted result into one frame with one `Value` field: a bar gauge or stat shows a
    // single value then, whatever the legend says.
    const misplaced = dashboards.flatMap(({ file, dashboard }) =>
      panelsOf(dashboard)
        .filter((panel) => panel.type !== 'table' && (panel.targets ?? []).some((t) => t.format === 'table'))
        .map((panel) => `${file} › ${panel.title}`),
    );
    expect(misplaced).toEqual([]);
  });

  it('draw the service map from Tempo', () => {
    const serviceMaps = dashboards.flatMap(({ dashboard }) =>
      panelsOf(dashboard).filter((panel) => panel.type === 'nodeGraph' && panel.datasource?.uid === 'tempo'),
    );
    expect(serviceMaps.map((panel) => panel.title)).toEqual(['Service map']);
  });

  it("ask Prometheus for the service map's edges as Grafana's Tempo data source does", () => {
    const edges = dashboardQueries().find((query) =>
      query.where.endsWith('Service map › A › traces_service_graph_request_total'),
    );
    expect(edges).toMatchObject({
      expr: 'sum by (client, server) (rate(traces_service_graph_request_total{tenant=~".+"}[1h]))',
      instant: true,
      expectsData: true,
    });
  });
});

describe('links from a span to its metrics', () => {
  it("fill in the tenant and the span's service, leaving nothing for Grafana to resolve", () => {
    const queries = tracesToMetricsQueries({ RUMKIT_GRAFANA_TEMPO_TENANT: 'acme' }, { 'service.name': 'checkout' });
    expect(queries.map((query) => query.where)).toEqual([
      'Tempo data source › traces to metrics › Request rate',
      'Tempo data source › traces to metrics › Latency p95',
    ]);
    for (const { expr } of queries) {
      expect(expr).toContain('{service="checkout", tenant="acme"}');
      expect(expr).not.toContain('$');
    }
  });

  it('name a variable the environment does not give', () => {
    expect(() => tracesToMetricsQueries({}, { 'service.name': 'checkout' })).toThrow(/RUMKIT_GRAFANA_TEMPO_TENANT/);
  });
});

describe('PromQL of the dashboards and rules', () => {
  // promtool parses PromQL offline only as rule expressions, so each query becomes a recording rule.
  it('parses, every variable resolved', () => {
    const spanLinks = tracesToMetricsQueries({ RUMKIT_GRAFANA_TEMPO_TENANT: 'acme' }, { 'service.name': 'web' });
    const queries = [...dashboardQueries(), ...spanLinks, ...ruleQueries()];
    const dir = mkdtempSync(join(tmpdir(), 'rumkit-promql-'));
    try {
      const file = join(dir, 'queries.rules.yml');
      const groups = queries.map((query, i) => ({
        name: query.where,
        rules: [{ record: `rumkit_check:query_${i}`, expr: query.expr }],
      }));
      writeFileSync(file, stringify({ groups }));
      const { status, output } = runTool('promtool', ['check', 'rules', file]);
      expect(status, output).toBe(0);
      expect(output).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana provisioning', () => {
  it('points the Tempo data source at one tenant and its service map and traces-to-metrics at Prometheus', () => {
    const tempo = datasources.find((datasource) => datasource.type === 'tempo');
    expect(tempo?.jsonData).toMatchObject({
      httpHeaderName1: 'X-Scope-OrgID',
      serviceMap: { datasourceUid: 'prometheus' },
      tracesToMetrics: { datasourceUid: 'prometheus' },
    });
    // Grafana substitutes the tenant from its environment when it loads the file.
    expect(tempo?.secureJsonData).toEqual({
      httpHeaderValue1: expect.stringMatching(/^\$\{RUMKIT_GRAFANA_TEMPO_TENANT\}$/),
    });
    const prometheus = datasources.find((datasource) => datasource.uid === 'prometheus');
    expect(prometheus?.type).toBe('prometheus');
    // Exemplars lead to their traces: Tempo's own label and the collector's spanmetrics one.
    expect(prometheus?.jsonData?.exemplarTraceIdDestinations).toEqual([
      { name: 'traceID', datasourceUid: 'tempo' },
      { name: 'trace_id', datasourceUid: 'tempo' },
    ]);
  });
});
