/**
 * Builds the collector (with ocb from deploy/collector/manifest.yaml) and Tempo (from the
 * wrapper module in deploy/tempo), or reuses them from the cache. A cached binary is named
 * for the version and a hash of its inputs (the manifest with the local modules it names,
 * or Tempo's go.mod, go.sum and build settings, and the platform, for a cache shared between
 * machines), so editing any of them rebuilds and a warm run starts no Go process at all. The Go toolchain's
 * version is left out for that reason: after a Go upgrade, delete the cache's `bin/` to rebuild with it. ocb is
 * installed into the cache too (`bin/ocb-<version>/`), not onto the user's PATH.
 *
 *   node e2e/stack/build.ts                        # prints the two binary paths
 *   const { collector, tempo } = await buildStackBinaries();
 *
 * Cold builds use the default Go module and build caches (GOMODCACHE, GOCACHE), which is
 * what CI should cache; together they reach about 6 GB.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { rumkitCacheDir } from './cacheDir.ts';
import { isExecutable } from './findExecutable.ts';
import { repoPaths } from './repoPaths.ts';
import { runBuildStep } from './runBuildStep.ts';
import { inScratchDir, removeStaleScratchDirs } from './scratchDir.ts';

export type StackBinaries = {
  collector: string;
  tempo: string;
};

export type BuildOptions = {
  cacheDir?: string;
  log?: (line: string) => void;
  /** Ends a build in progress (its Go processes, and their scratch dirs, included) and rejects with its reason. */
  signal?: AbortSignal;
};

const TEMPO_PACKAGE = 'github.com/grafana/tempo/cmd/tempo';
/** How Tempo is built, beside its module files; part of its cache key. */
const TEMPO_BUILD = { env: { CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOWORK: 'off' }, ldflags: '-s -w' };
/** Go builds for the machine it runs on: a binary from another platform's cache would not start. */
const PLATFORM = `${process.platform}-${process.arch}`;
const BUILDER_PACKAGE = 'go.opentelemetry.io/collector/cmd/builder';

export async function buildStackBinaries(options: BuildOptions = {}): Promise<StackBinaries> {
  const { cacheDir = rumkitCacheDir(), log = (line: string) => console.error(line), signal } = options;
  const binDir = join(cacheDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  removeStaleScratchDirs(binDir);
  const collector = await cached('collector', collectorBinaryPath(binDir), log, (out) =>
    buildCollector(binDir, out, signal),
  );
  const tempo = await cached('tempo', tempoBinaryPath(binDir), log, (out) => buildTempo(binDir, out, log, signal));
  return { collector, tempo };
}

function collectorBinaryPath(binDir: string): string {
  const manifest = readFileSync(repoPaths.collectorManifest, 'utf8');
  const localSources = localModuleDirs(manifest).flatMap((dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
      .map((file) => `${file.slice(repoPaths.root.length)}\0${readFileSync(file, 'utf8')}`),
  );
  const inputs = [PLATFORM, manifest, ...localSources].join('\0');
  return join(binDir, `${distName(manifest)}-${collectorVersion(manifest)}-${sha256Prefix(inputs)}`);
}

/** Components built from this repository (`path:` in the manifest), relative to the manifest's directory. */
function localModuleDirs(manifest: string): string[] {
  return [...manifest.matchAll(/^[ \t]+path:[ \t]*"?([^"\s]+)"?[ \t]*$/gm)].map(([, path = '']) =>
    resolve(dirname(repoPaths.collectorManifest), path),
  );
}

function tempoBinaryPath(binDir: string): string {
  const inputs = ['go.mod', 'go.sum'].map((name) => readFileSync(join(repoPaths.tempoModuleDir, name), 'utf8'));
  return join(binDir, `tempo-${sha256Prefix([PLATFORM, JSON.stringify(TEMPO_BUILD), ...inputs].join('\0'))}`);
}

async function cached(
  name: string,
  path: string,
  log: (line: string) => void,
  build: (out: string) => Promise<void>,
): Promise<string> {
  const started = performance.now();
  if (existsSync(path)) {
    log(`${name}: cached ${path}`);
    return path;
  }
  log(`${name}: building ${path} (several minutes on a cold Go module cache)`);
  await build(path);
  log(`${name}: built in ${seconds(started)}`);
  return path;
}

async function buildCollector(binDir: string, out: string, signal?: AbortSignal): Promise<void> {
  const manifest = readFileSync(repoPaths.collectorManifest, 'utf8');
  const version = collectorVersion(manifest);
  const builder = await findOrInstallBuilder(binDir, version, signal);
  await inScratchDir(binDir, 'otelcol', async (dir) => {
    const distDir = join(dir, 'dist');
    if (!/^[ \t]+output_path:.*$/m.test(manifest))
      throw new Error(`${repoPaths.collectorManifest}: dist.output_path is missing`);
    const manifestCopy = join(dir, 'manifest.yaml');
    writeFileSync(
      manifestCopy,
      manifest.replace(/^([ \t]+output_path:).*$/m, (_, key: string) => `${key} ${JSON.stringify(distDir)}`),
    );
    // ocb resolves the manifest's local `path:` entries from its working directory.
    await runBuildStep(builder, ['--config', manifestCopy], {
      cwd: dirname(repoPaths.collectorManifest),
      env: envWithGoTmpDir(dir),
      signal,
    });
    renameSync(join(distDir, distName(manifest)), out);
  });
}

async function buildTempo(
  binDir: string,
  out: string,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  await inScratchDir(binDir, 'tempo', async (dir) => {
    const committedSum = readFileSync(join(repoPaths.tempoModuleDir, 'go.sum'), 'utf8');
    writeFileSync(join(dir, 'go.mod'), readFileSync(join(repoPaths.tempoModuleDir, 'go.mod')));
    writeFileSync(join(dir, 'go.sum'), committedSum);
    // The checksum database has no entry for this Tempo pseudo-version, so it is verified
    // against the committed go.sum instead; -mod=mod lets Go resolve Tempo's own
    // requirements, which the hand-written go.mod does not list.
    const env = {
      ...envWithGoTmpDir(dir),
      ...TEMPO_BUILD.env,
      GONOSUMDB: [process.env.GONOSUMDB, 'github.com/grafana/tempo'].filter(Boolean).join(','),
    };
    // Without the symbol table the binary shrinks by a third; panics still print stack traces.
    await runBuildStep('go', ['build', `-ldflags=${TEMPO_BUILD.ldflags}`, '-o', join(dir, 'tempo'), TEMPO_PACKAGE], {
      cwd: dir,
      env,
      signal,
    });
    if (readFileSync(join(dir, 'go.sum'), 'utf8') !== committedSum) {
      log(
        `tempo: warning: deploy/tempo/go.sum lacks entries Go needed; builds from a clean module cache may fail. Updated file: ${join(binDir, 'tempo.go.sum')}`,
      );
      renameSync(join(dir, 'go.sum'), join(binDir, 'tempo.go.sum'));
    }
    renameSync(join(dir, 'tempo'), out);
  });
}

/**
 * The environment with Go's work directory inside the scratch dir, so that it goes with it: `go build` removes
 * its own (in /tmp, hundreds of MB) on success and failure, not when a signal ends it. `TMPDIR` too: ocb leaves an
 * `otelcol-distribution*` directory in it after every build.
 */
function envWithGoTmpDir(scratchDir: string): NodeJS.ProcessEnv {
  const goTmpDir = join(scratchDir, 'gotmp');
  mkdirSync(goTmpDir);
  return { ...process.env, GOTMPDIR: goTmpDir, TMPDIR: goTmpDir };
}

async function findOrInstallBuilder(binDir: string, version: string, signal?: AbortSignal): Promise<string> {
  // Into the cache, not GOBIN or GOPATH/bin: building the stack should not put a program on the user's PATH.
  const installDir = join(binDir, `ocb-${version}`);
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), installDir].map((dir) =>
    join(dir, 'builder'),
  );
  const matching = candidates.find((path) => isExecutable(path) && builderVersion(path) === version);
  if (matching) return matching;
  // ocb must match the components' version: it generates code against that collector API.
  await runBuildStep('go', ['install', `${BUILDER_PACKAGE}@${version}`], {
    env: { ...process.env, GOBIN: installDir },
    signal,
  });
  return join(installDir, 'builder');
}

function builderVersion(path: string): string | undefined {
  // ocb prints its version on stderr.
  const { stdout = '', stderr = '' } = spawnSync(path, ['version'], { encoding: 'utf8' });
  return /version (v\S+)/.exec(stdout + stderr)?.[1];
}

function collectorVersion(manifest: string): string {
  const version = /^[ \t]+version:[ \t]*"?(\d+\.\d+\.\d+)"?[ \t]*$/m.exec(manifest)?.[1];
  if (!version) throw new Error(`${repoPaths.collectorManifest}: dist.version is missing`);
  return `v${version}`;
}

function distName(manifest: string): string {
  const name = /^[ \t]+name:[ \t]*"?([\w.-]+)"?[ \t]*$/m.exec(manifest)?.[1];
  if (!name) throw new Error(`${repoPaths.collectorManifest}: dist.name is missing`);
  return name;
}

function sha256Prefix(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}

if (import.meta.main) {
  const started = performance.now();
  try {
    const binaries = await buildStackBinaries();
    console.log(`collector ${binaries.collector}\ntempo ${binaries.tempo}`);
    console.error(`build.ts: done in ${seconds(started)}`);
  } catch (error) {
    console.error(`build.ts: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  }
}
