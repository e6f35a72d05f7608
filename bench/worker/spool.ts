/**
 * What a batch costs the Node worker when it goes to the spool (memory full: the collector slow or down, or a
 * stop), with `queue.fsync` on and off: wall time per 40 KB batch written, 500 batches, median of 5 rounds, into a
 * temporary directory.
 *
 *     node --conditions=rumkit-source bench/worker/spool.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardQueue } from '../../worker/src/adapter/node/forwardQueue.ts';
import { testConfig } from '../../worker/src/testing/config.ts';

const BATCHES = 500;
const body = new Uint8Array(40_000);

async function msPerSpooledBatch(fsync: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'rumkit-spool-bench-'));
  try {
    // Memory for one batch only, and an upstream that never answers: every batch after the first is spooled.
    const options = { ...testConfig().queue, maxMemoryBatches: 1, spoolDir: dir, fsync };
    const queue = await ForwardQueue.open(options, {
      send: () => new Promise(() => {}),
      onDone: () => {},
      now: Date.now,
    });
    const started = performance.now();
    for (let i = 0; i < BATCHES; i++)
      queue.enqueue({ tenant: 'bench', spans: 50, contentType: 'application/x-protobuf', body });
    const ms = (performance.now() - started) / BATCHES;
    queue.holdOnDisk();
    await queue.close(0);
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
// close() waits on an unref'd timer (a stopping worker has its server to keep it alive): this keeps the bench alive.
const keepAlive = setInterval(() => {}, 1000);
console.log('| queue.fsync | ms per spooled 40 KB batch (median of 5 rounds of 500) |\n| --- | ---: |');
for (const fsync of [true, false]) {
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) rounds.push(await msPerSpooledBatch(fsync));
  console.log(`| ${fsync} | ${median(rounds).toFixed(3)} |`);
}
clearInterval(keepAlive);
