/**
 * Starts the local stack (Prometheus, Tempo, collector) and prints its URLs.
 *
 *   node e2e/stack/start.ts            # foreground; Ctrl-C stops everything
 *   node e2e/stack/start.ts --detach   # leaves it running; stop with node e2e/stack/stop.ts
 *
 * RUMKIT_PORT_BASE picks the ports (see ports.ts), RUMKIT_KEEP_DATA=1 keeps the data dir.
 */
import { portBaseFromEnv } from './ports.ts';
import { type RunningStack, startStack, stopRecordedStack } from './stack.ts';
import { stopOnSignal } from './stopOnSignal.ts';

const base = portBaseFromEnv();
const detached = process.argv.includes('--detach');
let stack: RunningStack | undefined;
// A signal during startup arrives before startStack has returned; the PIDs are on disk by then.
const stopAndExit = stopOnSignal(async () => void (await (stack ? stack.stop() : stopRecordedStack(base))));
try {
  stack = await startStack({ base, detached });
  for (const [name, url] of Object.entries(stack.urls)) console.log(`${name.padEnd(18)} ${url}`);
  console.log(`${'logs'.padEnd(18)} ${stack.dataDir}/*.log`);
  if (detached) {
    console.log('detached; stop with: node e2e/stack/stop.ts');
  } else {
    console.log('running; Ctrl-C to stop');
    const problem = await stack.unexpectedExit;
    console.error(`start.ts: ${problem}`);
    await stopAndExit(1);
  }
} catch (error) {
  if (!stopAndExit.stopping) {
    console.error(`start.ts: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  }
}
