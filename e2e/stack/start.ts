/**
 * Starts the local stack (Prometheus, Tempo, collector) and prints its URLs.
 *
 *   node e2e/stack/start.ts            # foreground; Ctrl-C stops everything
 *   node e2e/stack/start.ts --detach   # leaves it running; stop with node e2e/stack/stop.ts
 *
 * RUMKIT_PORT_BASE picks the ports (see ports.ts), RUMKIT_KEEP_DATA=1 keeps the data dir.
 */
import { portBaseFromEnv } from './ports.ts';
import { startStack } from './stack.ts';
import { stopCommand } from './stackRecord.ts';
import { stopOnSignal } from './stopOnSignal.ts';

const base = portBaseFromEnv();
const detached = process.argv.includes('--detach');
const starting = new AbortController();
const stackStart = startStack({ base, detached, signal: starting.signal });
// A start the abort interrupts stops what it launched itself; a stack it did not return is not ours to stop.
const stopAndExit = stopOnSignal(async () => {
  starting.abort();
  await (await stackStart.catch(() => undefined))?.stop();
});
try {
  const stack = await stackStart;
  for (const [name, url] of Object.entries(stack.urls)) console.log(`${name.padEnd(18)} ${url}`);
  console.log(`${'logs'.padEnd(18)} ${stack.dataDir}/*.log`);
  if (detached) {
    console.log(`detached; stop with: ${stopCommand(base)}`);
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
