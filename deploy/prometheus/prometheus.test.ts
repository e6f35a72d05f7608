import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPaths } from '../../e2e/stack/repoPaths.ts';
import { ruleQueries, rulesFile } from '../promqlQueries.ts';
import { runTool } from '../testing/runTool.ts';

const testsFile = resolve(import.meta.dirname, 'tests/rumkit.rules.test.yml');
const composeTargets = resolve(import.meta.dirname, '../compose/prometheus-targets');

type RuleTests = { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
type Rules = { groups: { rules: { alert?: string; annotations?: { runbook_url?: string } }[] }[] };

const alerts = (parse(readFileSync(rulesFile, 'utf8')) as Rules).groups
  .flatMap((group) => group.rules)
  .filter((rule) => rule.alert);

describe('Prometheus configuration', () => {
  // Laid out as both the loopback stack and docker-compose.yml do: rules/ and targets/ beside the file.
  const dir = mkdtempSync(join(tmpdir(), 'rumkit-promtool-'));
  symlinkSync(repoPaths.prometheusConfig, join(dir, 'prometheus.yml'));
  symlinkSync(repoPaths.prometheusRulesDir, join(dir, 'rules'));
  symlinkSync(composeTargets, join(dir, 'targets'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes promtool check config with its rule files and the compose target files', () => {
    const { status, output } = runTool('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(output, output).toContain('SUCCESS: 1 rule files found');
    expect(output).not.toContain('WARNING');
    expect(status, output).toBe(0);
  });

  it('passes promtool check rules', () => {
    const { status, output } = runTool('promtool', ['check', 'rules', rulesFile]);
    expect(output).toContain(`SUCCESS: ${ruleQueries().length} rules found`);
    expect(status, output).toBe(0);
  });
});

describe('alert rules', () => {
  it('pass their promtool unit tests: each fires on what should page and stays quiet on look-alikes', () => {
    const { status, output } = runTool('promtool', ['test', 'rules', testsFile]);
    expect(status, output).toBe(0);
  });

  it('each have a unit test in which they fire', () => {
    const { tests } = parse(readFileSync(testsFile, 'utf8')) as RuleTests;
    const firing = new Set(
      tests.flatMap((test) => test.alert_rule_test ?? []).flatMap((t) => (t.exp_alerts.length ? [t.alertname] : [])),
    );
    expect(alerts.map((rule) => rule.alert).filter((name) => !firing.has(name as string))).toEqual([]);
  });

  it("each link a runbook that is a heading of the README's runbooks", () => {
    const readme = readFileSync(join(repoPaths.root, 'README.md'), 'utf8');
    // Only the headings under "### Runbooks", up to the next heading of its level or higher.
    const runbooks = /^### Runbooks\n([\s\S]*?)(?=^#{1,3} )/m.exec(readme)?.[1] ?? '';
    const anchors = new Set(
      [...runbooks.matchAll(/^#{4,6} (.+)$/gm)].map(([, heading = '']) =>
        heading
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const broken = alerts
      .map((rule) => `${rule.alert}: ${rule.annotations?.runbook_url}`)
      .filter((line) => {
        const anchor = /README\.md#([\w-]+)$/.exec(line)?.[1];
        return !anchor || !anchors.has(anchor);
      });
    expect(broken).toEqual([]);
  });
});
