/**
 * Brings up everything the end-to-end tests drive, on the ports of RUMKIT_PORT_BASE: the real stack
 * (collector, Tempo, Prometheus) and the demo system sending to it (trace view on Tempo, worker, API, third
 * party, pages); the local mode, which needs no stack, starts its own in specs/traceView.spec.ts. The URLs reach
 * the tests through RUMKIT_E2E (see e2eUrls.ts); the returned function stops it all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portBaseFromEnv, stackPorts } from '../stack/ports.ts';
import { startStack } from '../stack/stack.ts';
import type { E2eUrls } from './e2eUrls.ts';
import { startDemo } from './startDemo.ts';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const base = portBaseFromEnv();
  const stack = await startStack({ base });
  const logDir = mkdtempSync(join(tmpdir(), `rumkit-e2e-${base}-`));
  const demo = await startDemo({
    ports: stackPorts(base),
    backend: {
      collectorUrl: stack.urls.collectorOtlpHttp,
      collectorToken: stack.collectorToken,
      tempoUrl: stack.urls.tempo,
    },
    logDir,
    metricsExportSeconds: 2,
  }).catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  const urls: E2eUrls = { ...demo.urls, tempo: stack.urls.tempo, prometheus: stack.urls.prometheus, logDir };
  process.env.RUMKIT_E2E = JSON.stringify(urls);
  // A service that dies mid-run fails the run, even where the tests that came after it passed.
  let died: string | undefined;
  void Promise.race([demo.unexpectedExit, stack.unexpectedExit]).then((problem) => {
    died = problem;
    console.error(`
e2e: a service exited during the run: ${problem}`);
  });
  return async () => {
    try {
      await demo.stop();
    } finally {
      await stack.stop();
    }
    if (process.env.RUMKIT_KEEP_DATA !== '1') rmSync(logDir, { recursive: true, force: true });
    if (died) throw new Error(`a service exited during the run: ${died}`);
  };
}
