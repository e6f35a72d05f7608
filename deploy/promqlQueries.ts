/**
 * Every PromQL expression of the operator's view: the Prometheus targets and template variables of
 * the Grafana dashboards, and the expressions of the alert and recording rules. The deploy tests
 * parse them all with promtool; the e2e runs them against the Prometheus of a real demo run.
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

export type PromQuery = {
  /** Where it comes from, for messages: `real-user-monitoring.json › LCP p75 by route › A`. */
  where: string;
  kind: 'panel' | 'variable' | 'alert' | 'record';
  expr: string;
  /** Grafana asks instant panels for one value at the end of the range, the others for a range. */
  instant: boolean;
};

type Target = { refId: string; expr?: string; instant?: boolean; datasource?: { uid?: string } };
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
      return { where, kind: 'variable', expr: substitute(labelValuesAsPromql(query, where), where), instant: true };
    });
    const panelQueries = panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? [])
        .filter((target) => (target.datasource ?? panel.datasource)?.uid === 'prometheus')
        .map((target): PromQuery => {
          const where = `${file} › ${panel.title} › ${target.refId}`;
          return { where, kind: 'panel', expr: substitute(target.expr ?? '', where), instant: target.instant === true };
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
        ? { where: `rules › ${group.name} › ${rule.alert}`, kind: 'alert', expr, instant: true }
        : { where: `rules › ${group.name} › ${rule.record}`, kind: 'record', expr, instant: true };
    }),
  );
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
