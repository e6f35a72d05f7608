/**
 * Runs the real telemetry backend on 127.0.0.1 without Docker: Prometheus, Tempo and the
 * OpenTelemetry Collector, each started from the repository's own config file in deploy/
 * with addresses passed as environment variables, data and logs in a fresh temp dir.
 *
 *   const stack = await startStack();            // ports from RUMKIT_PORT_BASE
 *   await fetch(`${stack.urls.collectorOtlpHttp}/v1/traces`, { method: 'POST', ... });
 *   await stack.stop();
 *
 * The PIDs are recorded in <dataDir>/pids.json, and a pointer to it in the cache dir
 * (stack-<base>.json), so `node e2e/stack/stop.ts` can stop a stack another process started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStackBinaries, type StackBinaries } from './build.ts';
import { rumkitCacheDir } from './cacheDir.ts';
import { pollUntil } from './pollUntil.ts';
import { portBaseFromEnv, type StackPorts, stackPorts } from './ports.ts';
import { repoPaths } from './repoPaths.ts';
import { isRunning, type RecordedProcess, stopProcesses } from './stopProcesses.ts';

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
  /** Prebuilt binaries; by default they are built or taken from the cache. */
  binaries?: StackBinaries;
  /** Leave the processes running when this Node process exits (start.ts --detach). */
  detached?: boolean;
  keepData?: boolean;
  log?: (line: string) => void;
};

export type RunningStack = {
  urls: StackUrls;
  ports: StackPorts;
  dataDir: string;
  /** Settles with a description (and log tail) if a component dies before stop() is called. */
  unexpectedExit: Promise<string>;
  stop: () => Promise<void>;
};

type StackState = {
  base: number;
  urls: StackUrls;
  dataDir: string;
  keepData: boolean;
  startedAt: string;
  processes: (RecordedProcess & { logFile: string })[];
};

type Launched = {
  component: Component;
  child: ChildProcess;
  record: RecordedProcess & { logFile: string };
  /** Settles with the reason once the process has ended or failed to start. */
  exited: Promise<string>;
};

type Component = {
  name: string;
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  readyUrl: string;
  readyTimeoutMs: number;
};

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const {
    base = portBaseFromEnv(),
    detached = false,
    keepData = process.env.RUMKIT_KEEP_DATA === '1',
    log = (line: string) => console.error(line),
  } = options;
  const ports = stackPorts(base);
  const pointerFile = stackPointerFile(base);
  refuseIfAlreadyRunning(pointerFile);
  await assertPortsFree(ports);
  const binaries = options.binaries ?? (await buildStackBinaries({ log }));

  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), `rumkit-stack-${base}-`));
  const urls = stackUrls(ports);
  const components = stackComponents(binaries, ports, urls, dataDir);
  writePrometheusFiles(ports, dataDir);

  const state: StackState = { base, urls, dataDir, keepData, startedAt: new Date().toISOString(), processes: [] };
  const launched: Launched[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await stopInReverseOrder(state.processes);
    removeStackFiles(state, pointerFile);
  };
  try {
    for (const component of components) {
      const logFile = join(dataDir, `${component.name}.log`);
      const entry = launch(component, dataDir, logFile);
      launched.push(entry);
      state.processes.push(entry.record);
    }
    // Recorded before the readiness wait, so a stack that hangs while starting can still be stopped.
    writeFileSync(join(dataDir, 'pids.json'), `${JSON.stringify(state, null, 2)}\n`);
    writeFileSync(pointerFile, `${JSON.stringify({ stateFile: join(dataDir, 'pids.json') })}\n`);
    await Promise.all(launched.map(waitUntilReady));
  } catch (error) {
    await stop();
    throw error;
  }
  if (detached) for (const { child } of launched) child.unref();
  const unexpectedExit = Promise.race(
    launched.map(({ exited, record }) =>
      exited.then((reason) =>
        stopping
          ? new Promise<string>(() => {})
          : `${record.name} ${reason}\n--- last lines of ${record.logFile} ---\n${tail(record.logFile, 30)}`,
      ),
    ),
  );
  log(`stack: ready in ${((performance.now() - started) / 1000).toFixed(1)}s (data in ${dataDir})`);
  return { urls, ports, dataDir, unexpectedExit, stop };
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

/**
 * The collector first, Prometheus last: each component flushes to the next on the way
 * out, and Tempo waits up to remote_write_flush_deadline for a Prometheus that is gone.
 */
async function stopInReverseOrder(processes: RecordedProcess[]): Promise<void> {
  for (const recorded of [...processes].reverse()) await stopProcesses([recorded]);
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

function stackComponents(binaries: StackBinaries, ports: StackPorts, urls: StackUrls, dataDir: string): Component[] {
  const remoteWrite = `${urls.prometheus}/api/v1/write`;
  return [
    {
      name: 'prometheus',
      executable: process.env.RUMKIT_PROMETHEUS_BIN ?? 'prometheus',
      args: [
        // The symlink's directory, not deploy/prometheus, is where relative file_sd paths resolve.
        `--config.file=${join(dataDir, 'prometheus', 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'prometheus', 'data')}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`,
        '--web.enable-remote-write-receiver',
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
        RUMKIT_TEMPO_OTLP_HTTP_URL: `http://127.0.0.1:${ports.tempoOtlpHttp}`,
        RUMKIT_PROMETHEUS_REMOTE_WRITE_URL: remoteWrite,
      },
      readyUrl: urls.collectorHealth,
      readyTimeoutMs: 30_000,
    },
  ];
}

/** Prometheus reads its scrape targets from files beside its config (see prometheus.yml). */
function writePrometheusFiles(ports: StackPorts, dataDir: string): void {
  const dir = join(dataDir, 'prometheus');
  mkdirSync(join(dir, 'targets'), { recursive: true });
  symlinkSync(repoPaths.prometheusConfig, join(dir, 'prometheus.yml'));
  const targets = { tempo: ports.tempoHttp, otelcol: ports.collectorMetrics, 'rumkit-worker': ports.worker };
  for (const [job, port] of Object.entries(targets)) {
    writeFileSync(join(dir, 'targets', `${job}.json`), `${JSON.stringify([{ targets: [`127.0.0.1:${port}`] }])}\n`);
  }
}

function launch(component: Component, dataDir: string, logFile: string): Launched {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // Own process group: a Ctrl-C in the terminal reaches only Node, which then stops the
    // components in order instead of racing them.
    child = spawn(component.executable, component.args, {
      cwd: dataDir,
      env: component.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolvePromise) => {
    child.once('error', (error) =>
      resolvePromise(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `could not start: ${component.executable} not found${component.name === 'prometheus' ? ' (apt-get install prometheus, or set RUMKIT_PROMETHEUS_BIN)' : ''}`
          : `could not start: ${error.message}`,
      ),
    );
    child.once('exit', (code, signal) => resolvePromise(`exited with ${signal ?? `code ${code}`}`));
  });
  // A failed spawn has no PID; 0 is never signalled (stopProcesses skips processes that are not running).
  const record = { name: component.name, pid: child.pid ?? 0, executable: component.executable, logFile };
  return { component, child, record, exited };
}

async function waitUntilReady({ component, record, exited }: Launched): Promise<void> {
  const gaveUp = new AbortController();
  let exitReason: string | undefined;
  void exited.then((reason) => {
    exitReason = reason;
    gaveUp.abort(new Error(reason));
  });
  try {
    await pollUntil(
      `${component.name} at ${component.readyUrl}`,
      async () => {
        const response = await fetch(component.readyUrl, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return true;
      },
      { timeoutMs: component.readyTimeoutMs, intervalMs: 200, signal: gaveUp.signal },
    );
  } catch (error) {
    const reason = exitReason ?? (error instanceof Error ? error.message : String(error));
    throw new Error(
      `${component.name} did not become ready: ${reason}\n--- last lines of ${record.logFile} ---\n${tail(record.logFile, 30)}`,
    );
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

async function assertPortsFree(ports: StackPorts): Promise<void> {
  const owned: (keyof StackPorts)[] = [
    'collectorHttp',
    'collectorGrpc',
    'collectorHealth',
    'collectorMetrics',
    'tempoHttp',
    'tempoGrpc',
    'tempoMemberlist',
    'tempoOtlpHttp',
    'tempoOtlpGrpc',
    'prometheus',
  ];
  for (const key of owned) {
    if (!(await isPortFree(ports[key]))) {
      throw new Error(
        `port ${ports[key]} (${key}) on 127.0.0.1 is in use; stop what holds it or choose another RUMKIT_PORT_BASE`,
      );
    }
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
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

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
