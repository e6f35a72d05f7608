/**
 * Stops a stack started with `node e2e/stack/start.ts --detach` (or left behind by a
 * process that died), and returns once its ports are free.
 *
 *   RUMKIT_PORT_BASE=15300 node e2e/stack/stop.ts
 */
import { stopRecordedStack } from './stackRecord.ts';

const started = performance.now();
try {
  const stopped = await stopRecordedStack();
  const elapsed = ((performance.now() - started) / 1000).toFixed(1);
  console.error(stopped ? `stop.ts: stopped in ${elapsed}s` : 'stop.ts: no stack recorded for this port base');
} catch (error) {
  console.error(`stop.ts: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
}
