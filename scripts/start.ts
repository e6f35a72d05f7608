/**
 * `npm start`: the demo end to end on this machine — the collector, Tempo and Prometheus (built once with
 * Go and cached), the edge worker, the demo API and the demo page — then prints where to look.
 * Ctrl-C stops everything it started.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../e2e/harness/startDemo.ts';
import { portBaseFromEnv, stackPorts } from '../e2e/stack/ports.ts';
import { startStack } from '../e2e/stack/stack.ts';

const base = portBaseFromEnv();
const stack = await startStack({ base });
const logDir = mkdtempSync(join(tmpdir(), `rumkit-demo-${base}-`));
const demo = await startDemo({
  ports: stackPorts(base),
  collectorUrl: stack.urls.collectorOtlpHttp,
  traceUrlTemplate: `${stack.urls.tempo}/api/traces/{traceId}`,
  logDir,
}).catch(async (error: unknown) => {
  await stack.stop();
  throw error;
});

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await demo.stop();
  await stack.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(130));
process.on('SIGTERM', () => void stop(143));

console.log(`
  demo page     ${demo.urls.web}
  demo API      ${demo.urls.api}
  edge worker   ${demo.urls.worker}
  Tempo         ${stack.urls.tempo}   (traces: /api/traces/<trace id>, TraceQL: /api/search?q=…)
  Prometheus    ${stack.urls.prometheus}   (service map: traces_service_graph_request_total)
  logs          ${logDir}, ${stack.dataDir}

Upload a document on the demo page, then open its trace. Ctrl-C stops everything.`);

const problem = await Promise.race([demo.unexpectedExit, stack.unexpectedExit]);
console.error(`\n${problem}`);
await stop(1);
