/**
 * Runs the demo system as separate processes on 127.0.0.1: the trace view, the edge worker, the demo API, a
 * second copy of the API playing a third-party origin, and the server of the built demo pages. `npm start` and
 * the end-to-end tests both use it.
 *
 * Without a `backend`, telemetry goes to the trace view's embedded local store (local mode: nothing else to
 * run). With one, the worker and the API send to its collector and the view reads its Tempo; the backend
 * (collector, Tempo, Prometheus) is started apart.
 *
 *   const demo = await startDemo({ ports: stackPorts(), logDir });                      // local mode
 *   const demo = await startDemo({ ports, logDir, backend: { collectorUrl, tempoUrl } });
 *   console.log(demo.urls.web, demo.urls.view);
 *   await demo.stop();
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertPortsFree } from '../stack/assertPortsFree.ts';
import { collectorTokenFromEnv } from '../stack/collectorToken.ts';
import { type LaunchedProcesses, launchProcesses, type ProcessSpec } from '../stack/launchProcesses.ts';
import type { StackPorts } from '../stack/ports.ts';
import { repoPaths } from '../stack/repoPaths.ts';
import { recordDemo, stopLeftovers } from './demoRecord.ts';

/** The public ingest key in demo/rumkit.yaml (stored there as its hash). */
export const DEMO_API_KEY = 'pk_demo_rumkit_local';
/** The tenant of that key in demo/rumkit.yaml; the API files its spans under it too, so traces join. */
export const DEMO_TENANT = 'demo';

export type DemoUrls = {
  web: string;
  api: string;
  worker: string;
  thirdParty: string;
  /** The trace view; in local mode also the OTLP/HTTP endpoint of its store. */
  view: string;
};

export type TelemetryBackend = {
  /** OTLP/HTTP base URL the worker and the API send to. */
  collectorUrl: string;
  /** The collector's bearer token; by default the local stack's (see collectorToken.ts). */
  collectorToken?: string;
  /** Tempo's HTTP API, which the trace view reads (as tenant DEMO_TENANT). */
  tempoUrl: string;
};

export type DemoOptions = {
  ports: StackPorts;
  /** Where telemetry goes; without one, to the trace view's local store. */
  backend?: TelemetryBackend;
  logDir: string;
  /** How often the worker exports its metrics. */
  metricsExportSeconds?: number;
  /** Ends the start (Ctrl-C): what it launched is stopped, its record removed, and the start rejects. */
  signal?: AbortSignal;
  log?: (line: string) => void;
};

export type RunningDemo = Omit<LaunchedProcesses, 'processes' | 'restart'> & { urls: DemoUrls };

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const { ports, backend, logDir, log = (line: string) => console.error(line) } = options;
  await stopLeftovers(ports.web, log);
  await assertPortsFree({
    web: ports.web,
    api: ports.api,
    worker: ports.worker,
    thirdParty: ports.thirdParty,
    view: ports.view,
  });
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const urls: DemoUrls = {
    web: url(ports.web),
    api: url(ports.api),
    worker: url(ports.worker),
    thirdParty: url(ports.thirdParty),
    view: url(ports.view),
  };
  const collectorUrl = backend?.collectorUrl ?? urls.view;
  // The local store takes spans without a token; sending one anyway keeps one configuration for both.
  const collectorToken = backend?.collectorToken ?? collectorTokenFromEnv();
  const node = (name: string, args: string[], env: NodeJS.ProcessEnv, readyUrl: string): ProcessSpec => ({
    name,
    executable: process.execPath,
    // Workspace packages run from their TypeScript sources, as in the tests.
    args: ['--conditions=rumkit-source', ...args],
    // Every process on loopback, whatever HOST (or the worker's RUMKIT_WORKER_HOST, which deploy/docker-compose.yml
    // sets) the user's shell exports: the view takes spans without a token.
    env: { ...process.env, HOST: '127.0.0.1', RUMKIT_WORKER_HOST: '127.0.0.1', ...env },
    cwd: repoPaths.root,
    readyUrl,
    readyTimeoutMs: 30_000,
  });
  const api = (name: string, serviceName: string, port: number) =>
    node(
      name,
      ['--import', pathToFileURL(join(repoPaths.root, 'demo/api/tracing.ts')).href, 'demo/api/server.ts'],
      {
        PORT: String(port),
        OTEL_SERVICE_NAME: serviceName,
        OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
        // Values are percent-encoded, as the OpenTelemetry SDKs decode them.
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(`Bearer ${collectorToken}`)},x-scope-orgid=${DEMO_TENANT}`,
        DEMO_WEB_ORIGIN: urls.web,
      },
      `${url(port)}/health`,
    );
  const record = recordDemo(ports.web);
  const group = await launchProcesses(
    [
      node(
        'view',
        ['demo/traceView/server.ts'],
        { PORT: String(ports.view), TEMPO_URL: backend?.tempoUrl, TEMPO_TENANT: backend && DEMO_TENANT },
        `${urls.view}/health`,
      ),
      node(
        'worker',
        ['worker/src/node.ts', '--config', 'demo/rumkit.yaml'],
        {
          RUMKIT_WORKER_PORT: String(ports.worker),
          RUMKIT_UPSTREAM_URL: collectorUrl,
          RUMKIT_UPSTREAM_TOKEN: collectorToken,
          RUMKIT_DEMO_WEB_ORIGIN: urls.web,
          RUMKIT_SPOOL_DIR: join(logDir, 'worker-spool'),
          // The local store keeps traces only; the worker's metrics stay on its /metrics.
          RUMKIT_METRICS_EXPORT_SECONDS: backend ? String(options.metricsExportSeconds ?? 15) : '0',
        },
        `${urls.worker}/health`,
      ),
      api('api', 'rumkit-demo-api', ports.api),
      api('third-party', 'rumkit-demo-thirdparty', ports.thirdParty),
      node(
        'web',
        ['demo/serve.ts'],
        {
          PORT: String(ports.web),
          RUMKIT_DEMO_CONFIG: JSON.stringify({
            endpoint: urls.worker,
            apiKey: DEMO_API_KEY,
            apiUrl: urls.api,
            thirdPartyUrl: urls.thirdParty,
            traceUrlTemplate: `${urls.view}/traces/{traceId}`,
          }),
        },
        `${urls.web}/`,
      ),
    ],
    {
      logDir,
      onRecorded: record.save,
      signal: options.signal,
    },
  ).catch((error: unknown) => {
    record.forget();
    throw error;
  });
  const stop = async () => {
    await group.stop();
    record.forget();
  };
  return { urls, unexpectedExit: group.unexpectedExit, stop };
}
