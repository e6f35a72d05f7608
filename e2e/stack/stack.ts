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
 * The PIDs are recorded (see stackRecord.ts), so `node e2e/stack/stop.ts` can stop a stack another process
 * started, and the next start stops what a run killed outright left. After a failed start or a crash, the
 * stack's logs stay in its data dir.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertPortsFree } from './assertPortsFree.ts';
import { buildStackBinaries, type StackBinaries } from './build.ts';
import { collectorTokenFromEnv } from './collectorToken.ts';
import { findExecutable } from './findExecutable.ts';
import { launchProcesses, type ProcessSpec } from './launchProcesses.ts';
import { portBaseFromEnv, type StackPorts, stackPorts } from './ports.ts';
import { repoPaths } from './repoPaths.ts';
import { claimBase, recordStack, stopStackLeftovers } from './stackRecord.ts';
import { thisProcess } from './stopProcesses.ts';

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
  /**
   * Ends the start wherever it is (the build, the readiness wait): what it launched is stopped, its files
   * removed, and startStack rejects. A stop handler aborts, then stops the stack only if startStack returned
   * one — never another run's stack on the same ports.
   */
  signal?: AbortSignal;
};

export type RunningStack = {
  urls: StackUrls;
  collectorToken: string;
  dataDir: string;
  /** Settles with a description (and log tail) if a component dies before stop() is called. */
  unexpectedExit: Promise<string>;
  /** Stops one component, runs `whileStopped`, starts it again on the same data and waits until it is ready. */
  restart: (component: StackComponent, whileStopped?: () => Promise<void>) => Promise<void>;
  /** Removes the data dir, but keeps its logs if a component crashed or `keepLogs` asks to (a failed run). */
  stop: (options?: { keepLogs?: boolean }) => Promise<void>;
};

export type StackComponent = 'prometheus' | 'tempo' | 'collector';

/** Prometheus is not built here: it comes from the system (Debian's package) or RUMKIT_PROMETHEUS_BIN. */
const PROMETHEUS_INSTALL_HINT = 'apt-get install prometheus, or set RUMKIT_PROMETHEUS_BIN';

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const {
    base = portBaseFromEnv(),
    detached = false,
    keepData = process.env.RUMKIT_KEEP_DATA === '1',
    collectorToken = collectorTokenFromEnv(),
    log = (line: string) => console.error(line),
    signal,
  } = options;
  const ports = stackPorts(base);
  // Before the build, which takes minutes on a fresh machine.
  if (!findExecutable(prometheusCommand())) {
    throw new Error(`${prometheusCommand()} not found (${PROMETHEUS_INSTALL_HINT})`);
  }
  const binaries = await buildStackBinaries({ log, signal });
  // After the build, so that a stack started while it ran is found, and its ports taken. From these checks until
  // its processes are recorded and ready, the base is this start's (see claimBase).
  const claim = claimBase(base);
  try {
    await stopStackLeftovers(base, log);
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

    const started = performance.now();
    const dataDir = mkdtempSync(join(tmpdir(), `rumkit-stack-${base}-`));
    const urls = stackUrls(ports);
    const components = stackComponents(binaries, ports, dataDir, collectorToken);
    writePrometheusFiles(ports, dataDir);

    const record = recordStack({
      base,
      urls,
      dataDir,
      keepData,
      startedAt: new Date().toISOString(),
      // A detached stack outlives the process that starts it: it has no owner whose death would make it a leftover.
      owner: detached ? undefined : thisProcess(),
      processes: [],
    });
    const forget = (keepLogs: boolean) => {
      record.forget({ keepLogs });
      if (keepLogs) log(`stack: logs kept in ${dataDir}`);
    };
    const group = await launchProcesses(components, {
      logDir: dataDir,
      detached,
      signal,
      onRecorded: record.save,
    }).catch((error: unknown) => {
      // Keep the logs the error quotes and names; an abort is no failure.
      forget(!signal?.aborted);
      throw error;
    });
    let crashed = false;
    void group.unexpectedExit.then(() => {
      crashed = true;
    });
    const stop = async ({ keepLogs = false } = {}) => {
      await group.stop();
      forget(keepLogs || crashed);
    };
    log(`stack: ready in ${((performance.now() - started) / 1000).toFixed(1)}s (data in ${dataDir})`);
    return { urls, collectorToken, dataDir, unexpectedExit: group.unexpectedExit, restart: group.restart, stop };
  } finally {
    claim.release();
  }
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
      executable: prometheusCommand(),
      installHint: PROMETHEUS_INSTALL_HINT,
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

function prometheusCommand(): string {
  return process.env.RUMKIT_PROMETHEUS_BIN ?? 'prometheus';
}
