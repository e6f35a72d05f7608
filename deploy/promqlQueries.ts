/**
 * Every PromQL expression of the operator's view: the Prometheus targets and template variables of
 * the Grafana dashboards, what the Tempo data source asks Prometheus for to draw a dashboard's service
 * map and to link a span to its metrics, and the expressions of the alert and recording rules. The
 * deploy tests parse them all with promtool; the e2e runs them against the Prometheus of a real demo run.
 *
 *   for (const query of [...dashboardQueries(), ...ruleQueries()]) console.log(query.where, query.expr);
 *
 * Dashboard expressions come back as Grafana would send them with every variable at "All" (its
 * allValue), `$__rate_interval` at 1m and `$__range` at 1h; a variable the dashboard does not
 * define is an error here rather than a silently broken panel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const deployDir = import.meta.dirname;
const dashboardsDir = join(deployDir, 'grafana/dashboards');
export const rulesFile = join(deployDir, 'prometheus/rules/rumkit.rules.yml');
const datasourcesFile = join(deployDir, 'grafana/provisioning/datasources/rumkit.yaml');

export type PromQuery = {
  /** Where it comes from, for messages: `real-user-monitoring.json › LCP p75 by route › A`. */
  where: string;
  kind: 'panel' | 'variable' | 'alert' | 'record' | 'link';
  expr: string;
  /** Grafana asks instant panels for one value at the end of the range, the others for a range. */
  instant: boolean;
  /** A healthy demo run fills it: not so for alerts, nor for the service map's failed requests. */
  expectsData: boolean;
};

type Target = {
  refId: string;
  expr?: string;
  instant?: boolean;
  datasource?: { uid?: string };
  queryType?: string;
  /** `table` merges the result into one frame: only a table panel shows it as rows. */
  format?: string;
  serviceMapQuery?: string;
};
export type Panel = {
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
};
type Variable = { name: string; allValue?: string; query?: { query?: string } | string };
export type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } };
type RuleGroups = { groups: { name: string; rules: ({ alert: string } | { record: string })[] }[] };

/** Grafana's built-in interval variables, at what they are for a one-hour view. */
const BUILT_INS: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '1h' };

/**
 * Tempo's metrics-generator series a `serviceMap` query of Grafana's Tempo data source reads (its
 * `serviceMapMetrics`), each with whether a healthy run has it: failed requests may never happen.
 */
const SERVICE_MAP_METRICS: [metric: string, expectsData: boolean][] = [
  ['traces_service_graph_request_server_seconds_sum', true],
  ['traces_service_graph_request_total', true],
  ['traces_service_graph_request_failed_total', false],
  ['traces_service_graph_request_server_seconds_bucket', true],
];

export function readDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(dashboardsDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard }));
}

/** Every panel, rows' nested panels included. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export function dashboardQueries(): PromQuery[] {
  return readDashboards().flatMap(({ file, dashboard }) => {
    const variables = dashboard.templating.list;
    const substitute = (expr: string, where: string) => substituteVariables(expr, variables, where);
    const variableQueries = variables.map((variable): PromQuery => {
      const where = `${file} › $${variable.name}`;
      const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      const expr = substitute(labelValuesAsPromql(query, where), where);
      return { where, kind: 'variable', expr, instant: true, expectsData: true };
    });
    const panelQueries = panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).flatMap((target): PromQuery[] => {
        const where = `${file} › ${panel.title} › ${target.refId}`;
        const uid = (target.datasource ?? panel.datasource)?.uid;
        if (uid === 'prometheus') {
          const expr = substitute(target.expr ?? '', where);
          return [{ where, kind: 'panel', expr, instant: target.instant === true, expectsData: true }];
        }
        if (uid === 'tempo' && target.queryType === 'serviceMap') {
          return serviceMapQueries(substitute(target.serviceMapQuery ?? '', where), where);
        }
        return [];
      }),
    );
    return [...variableQueries, ...panelQueries];
  });
}

export function ruleQueries(): PromQuery[] {
  const { groups } = parse(readFileSync(rulesFile, 'utf8')) as RuleGroups;
  return groups.flatMap((group) =>
    group.rules.map((rule): PromQuery => {
      const { expr } = rule as unknown as { expr: string };
      return 'alert' in rule
        ? { where: `rules › ${group.name} › ${rule.alert}`, kind: 'alert', expr, instant: true, expectsData: false }
        : { where: `rules › ${group.name} › ${rule.record}`, kind: 'record', expr, instant: true, expectsData: true };
    }),
  );
}

/**
 * The Tempo data source's traces-to-metrics queries as Grafana runs them from a span: the provisioning
 * file's `$$` and `${VAR}` resolved as Grafana does when it loads it (from `env`), then `$__tags` from the
 * span's attributes through the configured tag mapping, as `label="value", …`.
 */
export function tracesToMetricsQueries(env: Record<string, string>, span: Record<string, string>): PromQuery[] {
  type TracesToMetrics = { tags: { key: string; value?: string }[]; queries: { name: string; query: string }[] };
  const { datasources } = parse(readFileSync(datasourcesFile, 'utf8')) as {
    datasources: { uid: string; jsonData?: { tracesToMetrics?: TracesToMetrics } }[];
  };
  const tracesToMetrics = datasources.find((datasource) => datasource.uid === 'tempo')?.jsonData?.tracesToMetrics;
  if (!tracesToMetrics) throw new Error('the Tempo data source has no tracesToMetrics');
  const tags = tracesToMetrics.tags
    .filter((tag) => span[tag.key] !== undefined)
    .map((tag) => `${tag.value ?? tag.key}="${span[tag.key]}"`)
    .join(', ');
  return tracesToMetrics.queries.map(({ name, query }): PromQuery => {
    const where = `Tempo data source › traces to metrics › ${name}`;
    const expr = query
      .replace(/\$\$|\$\{(\w+)\}/g, (_, variable?: string) => {
        if (!variable) return '$';
        const value = env[variable];
        if (value === undefined) throw new Error(`${where}: \${${variable}} is not given`);
        return value;
      })
      .replaceAll('$__tags', tags);
    return { where, kind: 'link', expr, instant: false, expectsData: true };
  });
}

/** For each service-map series, the rate per edge and the edges' labels, as Grafana asks for them. */
function serviceMapQueries(selector: string, where: string): PromQuery[] {
  return SERVICE_MAP_METRICS.flatMap(([metric, expectsData]): PromQuery[] => [
    {
      where: `${where} › ${metric}`,
      kind: 'panel',
      expr: `sum by (client, server) (rate(${metric}${selector}[${BUILT_INS.__range}]))`,
      instant: true,
      expectsData,
    },
    {
      where: `${where} › ${metric}_labels`,
      kind: 'panel',
      expr: `group by (client, connection_type, server) (${metric}${selector})`,
      instant: true,
      expectsData,
    },
  ]);
}

/** `label_values(metric{…}, label)` as the PromQL that returns the same label values. */
function labelValuesAsPromql(query: string, where: string): string {
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
  if (!match) throw new Error(`${where}: only label_values(<selector>, <label>) variables are supported, got ${query}`);
  return `count by (${match[2]}) (${match[1]})`;
}

function substituteVariables(expr: string, variables: Variable[], where: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_, braced?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    const builtIn = BUILT_INS[name];
    if (builtIn) return builtIn;
    const variable = variables.find((candidate) => candidate.name === name);
    if (!variable) throw new Error(`${where}: $${name} is not a variable of this dashboard`);
    if (!variable.allValue) throw new Error(`${where}: $${name} needs an allValue to be tested`);
    return variable.allValue;
  });
}
