/**
 * Runs the real telemetry backend on 127.0.0.1 without Docker: Prometheus, Tempo and the
 * OpenTelemetry Collector, each started from the repository's own config file in deploy/
 * (the files deploy/docker-compose.yml mounts) with addresses and the collector's token passed
 * as environment variables, data and logs in a fresh temp dir.
 *
 *   const stack = await startStack();            // ports from RUMKIT_PORT_BASE
 *   await fetch(`${stack.urls.collectorOtlpHttp}/v1/traces`, { method: 'POST', ... });
 *   await stack.stop();
 *
 * The PIDs are recorded in <dataDir>/pids.json, and a pointer to it in the cache dir
 * (stack-<base>.json), so `node e2e/stack/stop.ts` can stop a stack another process started.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortsFree } from './assertPortsFree.ts';
import { buildStackBinaries, type StackBinaries } from './build.ts';
import { rumkitCacheDir } from './cacheDir.ts';
import { collectorTokenFromEnv } from './collectorToken.ts';
import { type LoggedProcess, launchProcesses, type ProcessSpec, stopInReverseOrder } from './launchProcesses.ts';
import { portBaseFromEnv, type StackPorts, stackPorts } from './ports.ts';
import { repoPaths } from './repoPaths.ts';
import { isRunning } from './stopProcesses.ts';

export type StackUrls = {
  /** OTLP/HTTP base URL; POST to /v1/traces or /v1/metrics. */
  collectorOtlpHttp: string;
  collectorOtlpGrpc: string;
  collectorHealth: string;
  tempo: string;
  prometheus: string;
};

export type StackOptions = {
  base?: number;
  /** Leave the processes running when this Node process exits (start.ts --detach). */
  detached?: boolean;
  keepData?: boolean;
  /** What writers must send as `Authorization: Bearer …`; see collectorToken.ts. */
  collectorToken?: string;
  log?: (line: string) => void;
};

export type RunningStack = {
  urls: StackUrls;
  collectorToken: string;
  dataDir: string;
  /** Settles with a description (and log tail) if a component dies before stop() is called. */
  unexpectedExit: Promise<string>;
  /** Stops one component, runs `whileStopped`, starts it again on the same data and waits until it is ready. */
  restart: (component: StackComponent, whileStopped?: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
};

export type StackComponent = 'prometheus' | 'tempo' | 'collector';

type StackState = {
  base: number;
  urls: StackUrls;
  dataDir: string;
  keepData: boolean;
  startedAt: string;
  processes: LoggedProcess[];
};

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const {
    base = portBaseFromEnv(),
    detached = false,
    keepData = process.env.RUMKIT_KEEP_DATA === '1',
    collectorToken = collectorTokenFromEnv(),
    log = (line: string) => console.error(line),
  } = options;
  const ports = stackPorts(base);
  const pointerFile = stackPointerFile(base);
  refuseIfAlreadyRunning(pointerFile);
  await assertPortsFree({
    collectorHttp: ports.collectorHttp,
    collectorGrpc: ports.collectorGrpc,
    collectorHealth: ports.collectorHealth,
    collectorMetrics: ports.collectorMetrics,
    tempoHttp: ports.tempoHttp,
    tempoGrpc: ports.tempoGrpc,
    tempoMemberlist: ports.tempoMemberlist,
    tempoOtlpHttp: ports.tempoOtlpHttp,
    tempoOtlpGrpc: ports.tempoOtlpGrpc,
    prometheus: ports.prometheus,
  });
  const binaries = await buildStackBinaries({ log });

  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), `rumkit-stack-${base}-`));
  const urls = stackUrls(ports);
  const components = stackComponents(binaries, ports, dataDir, collectorToken);
  writePrometheusFiles(ports, dataDir);

  const state: StackState = { base, urls, dataDir, keepData, startedAt: new Date().toISOString(), processes: [] };
  const group = await launchProcesses(components, {
    logDir: dataDir,
    detached,
    onRecorded: (processes) => {
      state.processes = processes;
      writeFileSync(join(dataDir, 'pids.json'), `${JSON.stringify(state, null, 2)}\n`);
      writeFileSync(pointerFile, `${JSON.stringify({ stateFile: join(dataDir, 'pids.json') })}\n`);
    },
  }).catch((error: unknown) => {
    removeStackFiles(state, pointerFile);
    throw error;
  });
  const stop = async () => {
    await group.stop();
    removeStackFiles(state, pointerFile);
  };
  log(`stack: ready in ${((performance.now() - started) / 1000).toFixed(1)}s (data in ${dataDir})`);
  return { urls, collectorToken, dataDir, unexpectedExit: group.unexpectedExit, restart: group.restart, stop };
}

/** Stops the stack recorded for a port base by another process; false if none was recorded. */
export async function stopRecordedStack(base = portBaseFromEnv()): Promise<boolean> {
  const pointerFile = stackPointerFile(base);
  const state = readRecordedState(pointerFile);
  if (!state) {
    rmSync(pointerFile, { force: true });
    return false;
  }
  await stopInReverseOrder(state.processes);
  removeStackFiles(state, pointerFile);
  return true;
}

function stackUrls(ports: StackPorts): StackUrls {
  const url = (port: number) => `http://127.0.0.1:${port}`;
  return {
    collectorOtlpHttp: url(ports.collectorHttp),
    collectorOtlpGrpc: url(ports.collectorGrpc),
    collectorHealth: url(ports.collectorHealth),
    tempo: url(ports.tempoHttp),
    prometheus: url(ports.prometheus),
  };
}

/** What startStack runs: each process with its arguments and environment. */
export function stackComponents(
  binaries: StackBinaries,
  ports: StackPorts,
  dataDir: string,
  collectorToken: string,
): ProcessSpec[] {
  const urls = stackUrls(ports);
  const remoteWrite = `${urls.prometheus}/api/v1/write`;
  return [
    {
      name: 'prometheus',
      executable: process.env.RUMKIT_PROMETHEUS_BIN ?? 'prometheus',
      installHint: 'apt-get install prometheus, or set RUMKIT_PROMETHEUS_BIN',
      args: [
        // The symlink's directory, not deploy/prometheus, is where relative file_sd paths resolve.
        `--config.file=${join(dataDir, 'prometheus', 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'prometheus', 'data')}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`,
        '--web.enable-remote-write-receiver',
        // As deploy/docker-compose.yml: keeps the exemplars Tempo's metrics-generator sends.
        '--enable-feature=exemplar-storage',
      ],
      env: process.env,
      readyUrl: `${urls.prometheus}/-/ready`,
      readyTimeoutMs: 30_000,
    },
    {
      name: 'tempo',
      executable: binaries.tempo,
      args: [`-config.file=${repoPaths.tempoConfig}`, '-config.expand-env=true'],
      env: {
        ...process.env,
        RUMKIT_TEMPO_LISTEN_ADDRESS: '127.0.0.1',
        RUMKIT_TEMPO_HTTP_PORT: String(ports.tempoHttp),
        RUMKIT_TEMPO_GRPC_PORT: String(ports.tempoGrpc),
        RUMKIT_TEMPO_MEMBERLIST_PORT: String(ports.tempoMemberlist),
        RUMKIT_TEMPO_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.tempoOtlpHttp}`,
        RUMKIT_TEMPO_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.tempoOtlpGrpc}`,
        RUMKIT_TEMPO_DATA_DIR: join(dataDir, 'tempo'),
        RUMKIT_PROMETHEUS_REMOTE_WRITE_URL: remoteWrite,
      },
      readyUrl: `${urls.tempo}/ready`,
      readyTimeoutMs: 60_000,
    },
    {
      name: 'collector',
      executable: binaries.collector,
      args: [`--config=${repoPaths.collectorConfig}`],
      env: {
        ...process.env,
        RUMKIT_COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${ports.collectorHttp}`,
        RUMKIT_COLLECTOR_OTLP_GRPC_ENDPOINT: `127.0.0.1:${ports.collectorGrpc}`,
        RUMKIT_COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${ports.collectorHealth}`,
        RUMKIT_COLLECTOR_METRICS_HOST: '127.0.0.1',
        RUMKIT_COLLECTOR_METRICS_PORT: String(ports.collectorMetrics),
        RUMKIT_COLLECTOR_TOKEN: collectorToken,
        RUMKIT_COLLECTOR_STORAGE_DIR: join(dataDir, 'collector-queue'),
        RUMKIT_TEMPO_OTLP_HTTP_URL: `http://127.0.0.1:${ports.tempoOtlpHttp}`,
        RUMKIT_PROMETHEUS_REMOTE_WRITE_URL: remoteWrite,
      },
      readyUrl: urls.collectorHealth,
      readyTimeoutMs: 30_000,
    },
  ];
}

/** Prometheus reads its scrape targets and rules from beside its config (see prometheus.yml). */
function writePrometheusFiles(ports: StackPorts, dataDir: string): void {
  const dir = join(dataDir, 'prometheus');
  mkdirSync(join(dir, 'targets'), { recursive: true });
  symlinkSync(repoPaths.prometheusConfig, join(dir, 'prometheus.yml'));
  symlinkSync(repoPaths.prometheusRulesDir, join(dir, 'rules'));
  const targets = { tempo: ports.tempoHttp, otelcol: ports.collectorMetrics, 'rumkit-worker': ports.worker };
  for (const [job, port] of Object.entries(targets)) {
    writeFileSync(join(dir, 'targets', `${job}.json`), `${JSON.stringify([{ targets: [`127.0.0.1:${port}`] }])}\n`);
  }
}

function refuseIfAlreadyRunning(pointerFile: string): void {
  const state = readRecordedState(pointerFile);
  if (state?.processes.some(isRunning)) {
    throw new Error(
      `a stack on port base ${state.base} is already running (started ${state.startedAt}, data in ${state.dataDir}); stop it with: node e2e/stack/stop.ts`,
    );
  }
}

function readRecordedState(pointerFile: string): StackState | undefined {
  try {
    const { stateFile } = JSON.parse(readFileSync(pointerFile, 'utf8')) as { stateFile: string };
    return JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

function removeStackFiles(state: StackState, pointerFile: string): void {
  if (readRecordedState(pointerFile)?.dataDir === state.dataDir) rmSync(pointerFile, { force: true });
  if (!state.keepData) rmSync(state.dataDir, { recursive: true, force: true });
}

function stackPointerFile(base: number): string {
  const dir = rumkitCacheDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, `stack-${base}.json`);
}
