import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPaths } from '../e2e/stack/repoPaths.ts';
import { configVariables } from './testing/configVariables.ts';
import { runTool } from './testing/runTool.ts';

const composeFile = join(import.meta.dirname, 'docker-compose.yml');
type Service = { volumes?: string[]; environment?: Record<string, string>; ports?: string[]; restart?: string };
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, Service> };

/** `docker compose` (v2 plugin) or `docker-compose` (standalone), whichever this machine has. */
function composeCommand(): string[] | undefined {
  if (runTool('docker', ['compose', 'version']).status === 0) return ['docker', 'compose'];
  if (runTool('docker-compose', ['version']).status === 0) return ['docker-compose'];
  return undefined;
}

/** Host side (resolved) → container side of a service's bind mounts. */
function bindMounts(service: string): Map<string, string> {
  const mounts = compose.services[service]?.volumes ?? [];
  return new Map(
    mounts
      .filter((mount) => mount.startsWith('.'))
      .map((mount) => {
        const [host = '', container = ''] = mount.split(':');
        return [resolve(import.meta.dirname, host), container];
      }),
  );
}

/** Variables a config file reads without a default. */
function requiredVariables(file: string): string[] {
  return configVariables(file)
    .filter(([, fallback]) => fallback === undefined)
    .map(([name]) => name);
}

describe('docker-compose.yml', () => {
  const command = composeCommand();
  it.skipIf(!command)(
    `is valid for ${command?.join(' ') ?? 'docker compose (skipped: no Docker Compose client on this machine)'} config`,
    () => {
      const [executable = '', ...args] = command ?? [];
      const env = {
        ...process.env,
        RUMKIT_COLLECTOR_TOKEN: 'compose-config',
        GRAFANA_ADMIN_PASSWORD: 'compose-config',
      };
      const { status, output } = runTool(executable, [...args, '-f', composeFile, 'config', '--quiet'], { env });
      expect(status, output).toBe(0);
    },
  );

  it('mounts the very config files the loopback stack and the e2e run', () => {
    expect(bindMounts('collector').get(repoPaths.collectorConfig)).toBe('/etc/otelcol/config.yaml');
    expect(bindMounts('tempo').get(repoPaths.tempoConfig)).toBe('/etc/tempo/tempo.yaml');
    expect(bindMounts('prometheus').get(repoPaths.prometheusConfig)).toBe('/etc/prometheus/prometheus.yml');
    expect(bindMounts('prometheus').get(repoPaths.prometheusRulesDir)).toBe('/etc/prometheus/rules');
    expect(bindMounts('worker').get(join(repoPaths.root, 'demo/rumkit.yaml'))).toBe('/etc/rumkit/rumkit.yaml');
  });

  it('mounts the dashboards where the Grafana provisioning looks for them', () => {
    const provider = readFileSync(join(import.meta.dirname, 'grafana/provisioning/dashboards/rumkit.yaml'), 'utf8');
    const path = (parse(provider) as { providers: { options: { path: string } }[] }).providers[0]?.options.path;
    expect(bindMounts('grafana').get(join(import.meta.dirname, 'grafana/dashboards'))).toBe(path);
  });

  it('gives every service the variables its config file needs', () => {
    const missing = [
      ['collector', repoPaths.collectorConfig],
      ['worker', join(repoPaths.root, 'demo/rumkit.yaml')],
      ['tempo', repoPaths.tempoConfig],
      ['grafana', join(import.meta.dirname, 'grafana/provisioning/datasources/rumkit.yaml')],
    ].flatMap(([service = '', file = '']) =>
      requiredVariables(file)
        .filter((name) => !(name in (compose.services[service]?.environment ?? {})))
        .map((name) => `${service}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it("points Prometheus's scrape targets at the ports the services are given", () => {
    // Target file → the service and the variable that sets the port it serves metrics on.
    const targets: Record<string, [service: string, portVariable: string]> = {
      'rumkit-worker.json': ['worker', 'RUMKIT_WORKER_PORT'],
      'tempo.json': ['tempo', 'RUMKIT_TEMPO_HTTP_PORT'],
      'otelcol.json': ['collector', 'RUMKIT_COLLECTOR_METRICS_PORT'],
    };
    const dir = join(import.meta.dirname, 'compose/prometheus-targets');
    expect(readdirSync(dir).sort()).toEqual(Object.keys(targets).sort());
    for (const [file, [service, portVariable]] of Object.entries(targets)) {
      const [{ targets: addresses = [] } = {}] = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        targets: string[];
      }[];
      expect(addresses, file).toEqual([`${service}:${compose.services[service]?.environment?.[portVariable]}`]);
    }
  });

  it('publishes ports on 127.0.0.1 only: Tempo, Prometheus and the demo worker have no authentication', () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) =>
      (service.ports ?? []).map((port) => `${name} ${port}`),
    );
    expect(published.length).toBeGreaterThan(0);
    expect(published.filter((port) => !/^[\w-]+ 127\.0\.0\.1:\d+:\d+$/.test(port))).toEqual([]);
  });

  it('restarts every long-running service, and only the one-shot tempo-init runs once', () => {
    const once = Object.entries(compose.services)
      .filter(([, service]) => service.restart !== 'unless-stopped')
      .map(([name]) => name);
    expect(once).toEqual(['tempo-init']);
  });
});
