/**
 * `npm start`: the demo on this machine, and where to look.
 *
 * - default, local mode: the trace view with its embedded store, the edge worker on Node, the demo API and the
 *   demo pages — Node only, no Go, Docker or account. The worker and the API send their spans to the view.
 * - `TEMPO_URL=… [OTEL_COLLECTOR_URL=…] npm start`: the worker and the API send to that OpenTelemetry
 *   Collector (default http://127.0.0.1:4318; its token from RUMKIT_COLLECTOR_TOKEN, tenant `demo`) and the view
 *   reads that Tempo.
 * - `npm run start:stack` (`--stack`): also runs the collector, Tempo and Prometheus of e2e/stack (built once
 *   with Go and cached) and uses them as above.
 *
 * The demo pages and the agent's script-tag build are built first when their sources changed. Ctrl-C stops
 * everything it started. RUMKIT_PORT_BASE moves every port.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningDemo, startDemo, type TelemetryBackend } from '../e2e/harness/startDemo.ts';
import { portBaseFromEnv, stackPorts } from '../e2e/stack/ports.ts';
import { type RunningStack, startStack } from '../e2e/stack/stack.ts';
import { stopOnSignal } from '../e2e/stack/stopOnSignal.ts';
import { buildIfStale } from './buildIfStale.ts';

const log = (line: string) => console.log(line);
const base = portBaseFromEnv();
const withStack = process.argv.includes('--stack');
const AGENT_SOURCES = [
  'packages/browser/src',
  'packages/browser/scripts/build.ts',
  'packages/otlp/src',
  'package-lock.json',
];

let stackStart: Promise<RunningStack> | undefined;
let stack: RunningStack | undefined;
let demoStart: Promise<RunningDemo> | undefined;
let demo: RunningDemo | undefined;
/** The demo's logs, whose path is printed once everything is up (or with the error that stopped the start). */
let logDir: string | undefined;
/** Ends a build, or a start of the stack or the demo, that is running when Ctrl-C comes. */
const starting = new AbortController();
const stop = stopOnSignal(async (code) => {
  console.log('\nstopping…');
  starting.abort();
  // A start the abort interrupts stops what it launched itself; a stack or demo a start did not return (refused,
  // because another run's are up on these ports) is not ours to stop.
  await (await demoStart?.catch(() => undefined))?.stop();
  await (await stackStart?.catch(() => undefined))?.stop();
  // The logs stay only after a failure, whose message names them, and only if they hold something; like the
  // stack's data directory, a run stopped by the user leaves nothing in the temporary directory.
  if (logDir && (code !== 1 || !hasLogs())) rmSync(logDir, { recursive: true, force: true });
});

/** Whether the demo's processes wrote any log yet. */
const hasLogs = () => logDir !== undefined && existsSync(logDir) && readdirSync(logDir).length > 0;

// From the start, builds included: "up in" is what the user waited.
const started = performance.now();
try {
  await buildIfStale(
    {
      name: "the agent's script-tag build",
      inputs: AGENT_SOURCES,
      // The script and the chunks it loads from beside itself; the build writes them one after another.
      outputs: [
        'packages/browser/dist/rumkit.iife.js',
        'packages/browser/dist/rumkit.deferred.js',
        'packages/browser/dist/rumkit.xhr.js',
      ],
      command: ['scripts/build.ts'],
      cwd: 'packages/browser',
    },
    log,
    starting.signal,
  );
  await buildIfStale(
    {
      name: 'the demo pages',
      inputs: [...AGENT_SOURCES, 'packages/react/src', 'demo/web', 'demo/vite.config.ts'],
      outputs: ['demo/dist/web/index.html', 'demo/dist/web/plain.html'],
      command: ['../node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error'],
      cwd: 'demo',
    },
    log,
    starting.signal,
  );
  if (withStack) {
    stackStart = startStack({ base, signal: starting.signal });
    stack = await stackStart;
  }
  const backend: TelemetryBackend | undefined = stack
    ? { collectorUrl: stack.urls.collectorOtlpHttp, tempoUrl: stack.urls.tempo }
    : process.env.TEMPO_URL
      ? { collectorUrl: process.env.OTEL_COLLECTOR_URL ?? 'http://127.0.0.1:4318', tempoUrl: process.env.TEMPO_URL }
      : undefined;
  logDir = mkdtempSync(join(tmpdir(), `rumkit-demo-${base}-`));
  demoStart = startDemo({ ports: stackPorts(base), backend, logDir, signal: starting.signal });
  demo = await demoStart;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const { urls } = demo;
  console.log(`
rumkit demo — ${
    backend
      ? `spans go to the collector at ${backend.collectorUrl}, the trace view reads Tempo at ${backend.tempoUrl}`
      : "local mode: the trace view's own store, the edge worker, the demo API and pages, all on Node"
  }; up in ${seconds} s

  demo page (React)        ${urls.web}/
  demo page (script tag)   ${urls.web}/plain.html
  trace view               ${urls.view}/
  demo API                 ${urls.api}
  edge worker              ${urls.worker}   (forwards to ${backend ? backend.collectorUrl : `${urls.view}/v1/traces`})
  third-party API          ${urls.thirdParty}   (gets no trace context)${
    stack
      ? `
  Tempo                    ${stack.urls.tempo}
  Prometheus               ${stack.urls.prometheus}   (service map: traces_service_graph_request_total)`
      : ''
  }
  logs                     ${logDir}${stack ? `, ${stack.dataDir}` : ''}

Upload a document on a demo page, then follow its trace link. Ctrl-C stops everything.`);
  const problem = await Promise.race([demo.unexpectedExit, ...(stack ? [stack.unexpectedExit] : [])]);
  if (!stop.stopping) {
    console.error(`\n${problem}`);
    await stop(1);
  }
} catch (error) {
  // Interrupted by Ctrl-C: the processes and builds it stops fail what was waiting for them, as expected.
  if (!stop.stopping) {
    console.error(
      `npm start: ${error instanceof Error ? error.message : error}${hasLogs() ? ` (logs: ${logDir})` : ''}`,
    );
    await stop(1);
  }
}
