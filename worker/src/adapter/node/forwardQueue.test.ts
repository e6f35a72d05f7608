import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExportResult, UpstreamPayload } from '../../pipeline/forward.ts';
import { ForwardQueue } from './forwardQueue.ts';
import { SPOOL_LOCK_FILE, SpoolInUseError, type SpoolLockTiming } from './spoolLock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rumkit-spool-'));
  dirs.push(dir);
  return dir;
}

const payload = (n: number): UpstreamPayload => ({
  tenant: 'shop',
  spans: n,
  contentType: 'application/x-protobuf',
  body: Uint8Array.of(n, n, n),
});
/** The test batches an export holds: each batch's bytes are its number, three times. */
const batchesOf = (p: UpstreamPayload): number[] => [...p.body].filter((_, i) => i % 3 === 0);
const options = (overrides: Record<string, unknown> = {}) => ({
  maxMemoryBatches: 2,
  maxMemoryBytes: 1024,
  maxSpoolBytes: 1024,
  fsync: true,
  maxRetrySeconds: 3600,
  concurrency: 1,
  mergeMaxBytes: 1024,
  mergeDelayMs: 0,
  maxTenantShare: 1,
  ...overrides,
});

/** An upstream that stays down for the whole test: every export is to be retried a minute later. */
const staysDown = (): ExportResult => ({ kind: 'retry', afterMs: 60_000, reason: 'down' });

/** A queue whose upstream answers with `answer()` and records what it delivered and how. */
async function harness(
  queueOptions: ReturnType<typeof options>,
  answer: (p: UpstreamPayload) => ExportResult = () => ({ kind: 'delivered' }),
  lockTiming?: SpoolLockTiming,
) {
  /** The batches sent, export by export. */
  const exports: number[][] = [];
  const sent: number[] = [];
  const done: Array<[number, string]> = [];
  const reasons: string[] = [];
  const queue = await ForwardQueue.open(
    queueOptions,
    {
      send: async (p) => {
        exports.push(batchesOf(p));
        sent.push(...batchesOf(p));
        return answer(p);
      },
      onDone: (p, outcome, why) => {
        done.push([p.spans, outcome]);
        if (why) reasons.push(why.reason);
      },
      now: Date.now,
    },
    lockTiming,
  );
  return { queue, exports, sent, done, reasons };
}

describe('ForwardQueue', () => {
  it('delivers every batch once and reports it forwarded', async () => {
    const { queue, done } = await harness(options());
    expect(queue.enqueue(payload(1))).toBe(true);
    expect(queue.enqueue(payload(2))).toBe(true);
    await vi.waitFor(() =>
      expect(done).toEqual([
        [1, 'forwarded'],
        [2, 'forwarded'],
      ]),
    );
    expect(queue.depth).toBe(0);
  });

  it('merges the batches of a tenant that wait into exports of up to mergeMaxBytes, in arrival order', async () => {
    const { queue, exports, done } = await harness(
      options({ maxMemoryBatches: 20, mergeMaxBytes: 9, mergeDelayMs: 50, concurrency: 4 }),
    );
    const json = { ...payload(7), contentType: 'application/json' as const };
    const blog = { ...payload(8), tenant: 'blog' };
    for (const p of [payload(1), payload(2), json, blog, payload(3), payload(4), payload(5), payload(6)])
      expect(queue.enqueue(p)).toBe(true);
    await vi.waitFor(() => expect(done).toHaveLength(8));
    // Three batches of three bytes fill an export: that one goes at once, the rest after the delay.
    expect(exports).toEqual([[1, 2, 3], [7], [8], [4, 5, 6]]);
    expect(done.every(([, outcome]) => outcome === 'forwarded')).toBe(true);
    expect(queue.depth).toBe(0);
  });

  it('drains a backlog of thousands exactly once and in order, two senders at a time', async () => {
    // Two senders and exports of one batch each: 3,000 batches queue behind the first two, and each export's end
    // sends the next after a scan that stops at the first batch it can send.
    const { queue, done, sent } = await harness(
      options({ maxMemoryBatches: 5000, maxMemoryBytes: 1e6, concurrency: 2, mergeMaxBytes: 3 }),
    );
    const numbers = Array.from({ length: 3000 }, (_, i) => i % 250);
    for (const n of numbers) expect(queue.enqueue(payload(n))).toBe(true);
    await vi.waitFor(() => expect(done).toHaveLength(3000), { timeout: 10_000 });
    expect(sent).toEqual(numbers);
    expect(done.every(([, outcome]) => outcome === 'forwarded')).toBe(true);
    expect(queue.depth).toBe(0);
  });

  it('holds a new batch up to mergeDelayMs for others to join it, and sends it then without any', async () => {
    const { queue, exports } = await harness(options({ maxMemoryBatches: 10, mergeDelayMs: 300 }));
    const started = Date.now();
    queue.enqueue(payload(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    queue.enqueue(payload(2));
    await vi.waitFor(() => expect(exports).toEqual([[1, 2]]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    queue.enqueue(payload(3));
    await vi.waitFor(() => expect(exports).toEqual([[1, 2], [3]]));
  });

  it('sends each batch of a refused merged export alone, so that only the batch refused alone is lost', async () => {
    const { queue, exports, done, reasons } = await harness(options({ maxMemoryBatches: 10, mergeDelayMs: 20 }), (p) =>
      batchesOf(p).includes(2)
        ? { kind: 'failed', reason: 'upstream answered 400', status: 400 }
        : { kind: 'delivered' },
    );
    for (const n of [1, 2, 3]) queue.enqueue(payload(n));
    await vi.waitFor(() => expect(done).toHaveLength(3));
    expect(exports).toEqual([[1, 2, 3], [1], [2], [3]]);
    expect(done).toEqual([
      [1, 'forwarded'],
      [2, 'forward_failed'],
      [3, 'forwarded'],
    ]);
    expect(reasons).toEqual(['refused_400']);
  });

  it('keeps a retried batch to its Retry-After while new batches of its tenant go', async () => {
    let first = true;
    const { queue, exports, done } = await harness(options({ maxMemoryBatches: 10, mergeDelayMs: 20 }), () => {
      if (!first) return { kind: 'delivered' };
      first = false;
      return { kind: 'retry', afterMs: 1500, reason: 'upstream answered 429' };
    });
    queue.enqueue(payload(1));
    await vi.waitFor(() => expect(exports).toEqual([[1]]));
    const refusedAt = Date.now();
    queue.enqueue(payload(2));
    await vi.waitFor(() => expect(exports).toEqual([[1], [2]]));
    await vi.waitFor(() => expect(done).toHaveLength(2), { timeout: 3000 });
    expect(exports).toEqual([[1], [2], [1]]);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(1450);
  });

  it('says no past its memory when it has no spool, so the app can answer 503', async () => {
    const { queue } = await harness(options(), staysDown);
    expect([1, 2, 3].map((n) => queue.enqueue(payload(n)))).toEqual([true, true, false]);
    expect(queue.hasCapacity('shop')).toBe(false);
    void queue.close(0);
  });

  it('bounds its memory in bytes too: past them a batch goes to the spool, or is refused without one', async () => {
    const memoryOnly = await harness(options({ maxMemoryBatches: 10, maxMemoryBytes: 6 }), staysDown);
    expect([1, 2, 3].map((n) => memoryOnly.queue.enqueue(payload(n)))).toEqual([true, true, false]);
    expect(memoryOnly.queue.hasCapacity('shop')).toBe(false);
    void memoryOnly.queue.close(0);

    const dir = spoolDir();
    const spooling = await harness(options({ maxMemoryBatches: 10, maxMemoryBytes: 6, spoolDir: dir }), staysDown);
    expect([1, 2, 3].map((n) => spooling.queue.enqueue(payload(n)))).toEqual([true, true, true]);
    expect(readdirSync(dir).filter((f) => f !== SPOOL_LOCK_FILE)).toHaveLength(1);
    await spooling.queue.close(0);
  });

  it('holds no more of one tenant than its share, so a tenant the upstream refuses leaves room for the others', async () => {
    const dir = spoolDir();
    const of = (tenant: string, n: number) => ({ ...payload(n), tenant });
    const queue = await harness(
      options({ spoolDir: dir, maxMemoryBatches: 4, maxSpoolBytes: 12, maxTenantShare: 0.5 }),
      (p) => (p.tenant === 'shop' ? staysDown() : { kind: 'delivered' }),
    );
    // The shop's half: two batches of the four in memory, six bytes of the spool's twelve; then no more.
    expect([1, 2, 3, 4, 5].map((n) => queue.queue.enqueue(of('shop', n)))).toEqual([true, true, true, true, false]);
    expect(queue.queue.hasCapacity('shop')).toBe(false);
    expect(queue.queue.hasCapacity('blog')).toBe(true);
    expect(queue.queue.enqueue(of('blog', 6))).toBe(true);
    await vi.waitFor(() => expect(queue.done).toContainEqual([6, 'forwarded']));
    await queue.queue.close(0);
  });

  it("moves another tenant's spooled batches into memory while the oldest tenant's are at its share", async () => {
    const dir = spoolDir();
    const of = (tenant: string, n: number) => ({ ...payload(n), tenant });
    const down = await harness(options({ spoolDir: dir, maxMemoryBatches: 0 }), staysDown);
    for (const batch of [of('shop', 1), of('shop', 2), of('blog', 3)]) expect(down.queue.enqueue(batch)).toBe(true);
    await down.queue.close(0);

    // The shop's first batch takes its one place of two; its second waits on disk, and the blog's goes ahead.
    const up = await harness(options({ spoolDir: dir, maxMemoryBatches: 2, maxTenantShare: 0.5 }), (p) =>
      p.tenant === 'shop' ? staysDown() : { kind: 'delivered' },
    );
    await vi.waitFor(() => expect(up.done).toEqual([[3, 'forwarded']]));
    expect(up.sent.sort()).toEqual([1, 3]);
    expect(up.queue.depth).toBe(2);
    await up.queue.close(0);
  });

  it('overflows into the spool, and a restarted queue delivers the spooled batches exactly once', async () => {
    const dir = spoolDir();
    const down = await harness(options({ spoolDir: dir }), staysDown);
    for (const n of [1, 2, 3, 4]) expect(down.queue.enqueue(payload(n))).toBe(true);
    expect(readdirSync(dir)).toHaveLength(2 + 1); // and the lock
    expect(down.queue.depth).toBe(4);
    await down.queue.close(100);
    expect(readdirSync(dir)).toHaveLength(4);

    const up = await harness(options({ spoolDir: dir }));
    await vi.waitFor(() => expect(up.done.map(([n]) => n).sort()).toEqual([1, 2, 3, 4]));
    expect(up.sent.sort()).toEqual([1, 2, 3, 4]);
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
    await up.queue.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a spool another live queue holds, sending none of its batches', async () => {
    const dir = spoolDir();
    // No memory: both batches go to the spool.
    const first = await harness(options({ spoolDir: dir, maxMemoryBatches: 0 }), staysDown);
    for (const n of [1, 2]) first.queue.enqueue(payload(n));
    const send = vi.fn(async () => ({ kind: 'delivered' }) as const);
    await expect(
      ForwardQueue.open(options({ spoolDir: dir }), { send, onDone: () => {}, now: Date.now }),
    ).rejects.toThrow(SpoolInUseError);
    expect(send).not.toHaveBeenCalled();
    await first.queue.close(0);

    const next = await harness(options({ spoolDir: dir }));
    await vi.waitFor(() => expect(next.sent.sort()).toEqual([1, 2]));
    await next.queue.close();
  });

  it('takes over the batches and the lock of a process that died holding its spool, and lists only the batches', async () => {
    const dir = spoolDir();
    const down = await harness(options({ spoolDir: dir, maxMemoryBatches: 0 }), staysDown);
    for (const n of [1, 2]) down.queue.enqueue(payload(n));
    await down.queue.close(0);
    // What a crash leaves: a lock nobody refreshes any more.
    writeFileSync(join(dir, SPOOL_LOCK_FILE), '{"pid":1,"hostname":"gone","startedAt":"","token":"x"}');
    const then = new Date(Date.now() - 60_000);
    utimesSync(join(dir, SPOOL_LOCK_FILE), then, then);

    const up = await harness(options({ spoolDir: dir }), staysDown, {
      heartbeatMs: 20,
      staleMs: 30_000,
    });
    expect(up.queue.depth).toBe(2);
    expect(up.queue.bytes).toBe(6);
    expect(readFileSync(join(dir, SPOOL_LOCK_FILE), 'utf8')).toContain(`"pid":${process.pid},`);
    await vi.waitFor(() => expect(up.sent.sort()).toEqual([1, 2]));
    await up.queue.close(0);
  });

  it('on holdOnDisk writes what it holds to disk at once, and each new batch before taking it, and sends no more', async () => {
    const dir = spoolDir();
    const sent: number[][] = [];
    let answer: (result: ExportResult) => void = () => {};
    const done: Array<[number, string]> = [];
    const queue = await ForwardQueue.open(options({ spoolDir: dir, maxMemoryBatches: 10, mergeMaxBytes: 3 }), {
      send: (p) => {
        sent.push(batchesOf(p));
        return new Promise<ExportResult>((resolve) => {
          answer = resolve;
        });
      },
      onDone: (p, outcome) => done.push([p.spans, outcome]),
      now: Date.now,
    });
    const spooled = () =>
      readdirSync(dir)
        .filter((f) => f !== SPOOL_LOCK_FILE)
        .map((f) => f.split('.')[2])
        .sort();
    // One sender: batch 1's export is in flight, 2 and 3 wait for it.
    for (const n of [1, 2, 3]) queue.enqueue(payload(n));
    expect(spooled()).toEqual([]);
    queue.holdOnDisk();
    // The one in flight too: killed before its answer, the worker sends it again after a restart.
    expect(spooled()).toEqual(['1', '2', '3']);
    expect(queue.depth).toBe(3);
    expect(queue.enqueue(payload(4))).toBe(true);
    expect(spooled()).toEqual(['1', '2', '3', '4']);
    // Batch 1 delivered after all: its file goes, and the free sender takes nothing more.
    answer({ kind: 'delivered' });
    await vi.waitFor(() => expect(done).toEqual([[1, 'forwarded']]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent).toEqual([[1]]);
    expect(spooled()).toEqual(['2', '3', '4']);
    await queue.close(10);
    const next = await harness(options({ spoolDir: dir }), staysDown);
    expect(next.queue.depth).toBe(3);
    await next.queue.close(0);
  });

  it("drops and counts a spool file whose size is not its name's, reads older workers' names, removes unfinished writes", async () => {
    const dir = spoolDir();
    const down = await harness(options({ spoolDir: dir, maxMemoryBatches: 0 }), staysDown);
    for (const n of [1, 2]) down.queue.enqueue(payload(n));
    await down.queue.close(0);
    const [first = '', second = ''] = readdirSync(dir).sort();
    // Batch 1 cut short on the disk; batch 2 under the name an older worker gave it, with no size in it; and a
    // write a crash interrupted before its rename.
    writeFileSync(join(dir, first), Uint8Array.of(1));
    renameSync(join(dir, second), join(dir, second.replace(/\.\d+\.pb$/, '.pb')));
    writeFileSync(join(dir, `${second.replace('-000001.', '-000007.')}.tmp`), Uint8Array.of(7));

    const up = await harness(options({ spoolDir: dir }));
    await vi.waitFor(() => expect(up.done).toHaveLength(2));
    expect(up.done.sort()).toEqual([
      [1, 'dropped'],
      [2, 'forwarded'],
    ]);
    expect(up.reasons).toEqual(['spool_corrupt']);
    expect(up.sent).toEqual([2]);
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
    await up.queue.close();
  });

  it('keeps its spool to its owner, and goes on when spool files vanish before it reads or removes them', async () => {
    const dir = join(spoolDir(), 'spool');
    const down = await harness(options({ spoolDir: dir }), staysDown);
    for (const n of [1, 2, 3, 4]) down.queue.enqueue(payload(n));
    await down.queue.close(100);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    for (const file of files) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    // `<time>-<sequence>.<tenant>.<spans>.<bytes>.pb`: each test batch has its number as its span count.
    const fileOf = (n: number) => files.find((f) => f.split('.')[2] === String(n)) as string;

    // Batch 4's file goes before the new queue reads it; batch 1's while its export is in flight.
    rmSync(join(dir, fileOf(4)));
    let release: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sent: number[] = [];
    const done: number[] = [];
    const up = await ForwardQueue.open(options({ spoolDir: dir, maxMemoryBatches: 4 }), {
      send: async (p) => {
        sent.push(...batchesOf(p));
        if (batchesOf(p).includes(1)) await inFlight;
        return { kind: 'delivered' };
      },
      onDone: (p) => done.push(p.spans),
      now: Date.now,
    });
    await vi.waitFor(() => expect(sent).toContain(1));
    rmSync(join(dir, fileOf(1)));
    release();
    await vi.waitFor(() => expect(done.sort()).toEqual([1, 2, 3]));
    await up.close();
    expect(readdirSync(dir)).toEqual([]);
    expect(up.depth).toBe(0);
  });

  it('without a spool, goes on sending when closed, and reports dropped what it could not deliver in time', async () => {
    const { queue, done } = await harness(options({ maxMemoryBatches: 10 }));
    for (const n of [1, 2, 3]) queue.enqueue(payload(n));
    await queue.close(1000);
    expect(done).toEqual([
      [1, 'forwarded'],
      [2, 'forwarded'],
      [3, 'forwarded'],
    ]);

    const down = await harness(options({ maxMemoryBatches: 10 }), staysDown);
    for (const n of [4, 5]) down.queue.enqueue(payload(n));
    await down.queue.close(50);
    expect(down.done).toEqual([
      [4, 'dropped'],
      [5, 'dropped'],
    ]);
    expect(down.reasons).toEqual(['stopped', 'stopped']);
    expect(down.queue.depth).toBe(0);
  });

  it('says no when the spool is full too', async () => {
    const { queue } = await harness(options({ spoolDir: spoolDir(), maxSpoolBytes: 6 }), staysDown);
    expect([1, 2, 3, 4, 5].map((n) => queue.enqueue(payload(n)))).toEqual([true, true, true, true, false]);
    await queue.close(0);
  });

  it('says no when its spool cannot be written to, leaves no file behind, and counts what close() cannot spool', async () => {
    const dir = spoolDir();
    const errors: string[] = [];
    const done: string[] = [];
    const queue = await ForwardQueue.open(options({ spoolDir: dir, maxMemoryBatches: 1 }), {
      send: () => new Promise<ExportResult>(() => {}),
      onDone: (_, outcome, why) => done.push(`${outcome} ${why?.message}`),
      now: Date.now,
      onSpoolError: (message) => errors.push(message),
    });
    expect(queue.enqueue(payload(1))).toBe(true); // in memory, its export never answered
    // The spool becomes unwritable, as a full disk does: its directory is a file now.
    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    writeFileSync(dir, '');
    dirs.push(moved);
    expect(queue.enqueue(payload(2))).toBe(false);
    expect(errors).toEqual([expect.stringMatching(/^a batch could not be spooled: ENOTDIR/)]);
    expect(readdirSync(moved).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await queue.close(10);
    // Batch 1 is tried at the stop's start, and again once the exports in flight had their time.
    expect(errors).toHaveLength(3);
    expect(done).toEqual(['dropped the worker stopped before delivering it, and could not write it to queue.spoolDir']);
  });

  it('retries a batch until delivered, and drops only a final refusal', async () => {
    const attempts = new Map<number, number>();
    const sent: number[] = [];
    // What each send carried, checked after the run: an assertion failing inside send would be taken for a
    // failed send and retried.
    const carried: number[][] = [];
    const done: Array<[number, string]> = [];
    const queue = await ForwardQueue.open(options(), {
      send: async (p) => {
        carried.push(batchesOf(p));
        sent.push(p.spans);
        const attempt = (attempts.get(p.spans) ?? 0) + 1;
        attempts.set(p.spans, attempt);
        if (p.spans === 2) return { kind: 'failed', reason: 'upstream answered 401', status: 401 };
        return attempt === 1 ? { kind: 'retry', afterMs: 0, reason: 'down' } : { kind: 'delivered' };
      },
      onDone: (p, outcome, why) => {
        done.push([p.spans, outcome]);
        if (why) reasons.push(why.reason);
      },
      now: Date.now,
    });
    const reasons: string[] = [];
    queue.enqueue(payload(1));
    queue.enqueue(payload(2));
    await vi.waitFor(() => expect(done).toHaveLength(2), { timeout: 4000 });
    expect(done).toEqual(
      expect.arrayContaining([
        [1, 'forwarded'],
        [2, 'forward_failed'],
      ]),
    );
    expect(sent.filter((n) => n === 1)).toHaveLength(2);
    expect(sent.filter((n) => n === 2)).toHaveLength(1);
    // Each batch went alone, not merged with the other.
    expect(carried).toEqual(sent.map((spans) => [spans]));
    expect(reasons).toEqual(['refused_401']);
  });

  it('drops and reports a batch still undeliverable after maxRetrySeconds', async () => {
    const { queue, done, reasons } = await harness(options({ maxRetrySeconds: 1 }), () => ({
      kind: 'retry',
      afterMs: 0,
      reason: 'down',
    }));
    queue.enqueue(payload(1));
    await vi.waitFor(() => expect(done).toEqual([[1, 'dropped']]), { timeout: 4000 });
    expect(reasons).toEqual(['retries_exhausted']);
  });

  it('gives a Retry-After of days one last attempt when maxRetrySeconds ends, without spinning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const { queue, sent, done } = await harness(options({ maxRetrySeconds: 1 }), () => ({
        kind: 'retry',
        afterMs: 30 * 24 * 3600 * 1000,
        reason: 'Retry-After: 30 days',
      }));
      queue.enqueue(payload(1));
      await vi.waitFor(() => expect(done).toEqual([[1, 'dropped']]), { timeout: 4000 });
      expect(sent).toEqual([1, 1]);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
