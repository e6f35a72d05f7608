/**
 * The repository files the stack is run from. Resolved from this file's location so the
 * scripts work from any working directory.
 */
import { resolve } from 'node:path';

const repoRoot = resolve(import.meta.dirname, '../..');

export const repoPaths = {
  root: repoRoot,
  collectorManifest: resolve(repoRoot, 'deploy/collector/manifest.yaml'),
  collectorConfig: resolve(repoRoot, 'deploy/collector/config.yaml'),
  tempoModuleDir: resolve(repoRoot, 'deploy/tempo'),
  tempoConfig: resolve(repoRoot, 'deploy/tempo/tempo.yaml'),
  prometheusConfig: resolve(repoRoot, 'deploy/prometheus/prometheus.yml'),
  prometheusRulesDir: resolve(repoRoot, 'deploy/prometheus/rules'),
};
