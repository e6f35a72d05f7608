import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../config.ts';
import { SPOOL_LOCK_FILE, SpoolInUseError, SpoolLock, type SpoolLockTiming } from './spoolLock.ts';

const dirs: string[] = [];
const locks: SpoolLock[] = [];
afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rumkit-lock-'));
  dirs.push(dir);
  return dir;
}

/** Heartbeats fast enough that watching a lock takes a moment, not the 20 s of the defaults. */
const FAST: SpoolLockTiming = { heartbeatMs: 20, staleMs: 30_000 };

async function acquire(dir: string, timing = FAST): Promise<SpoolLock> {
  const lock = await SpoolLock.acquire(dir, { timing });
  locks.push(lock);
  return lock;
}

/** Backdates the lock's last heartbeat. */
function age(dir: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(join(dir, SPOOL_LOCK_FILE), then, then);
}

describe('SpoolLock', () => {
  it('refuses a second holder in the same process at once, naming the directory, the holder and the way out', async () => {
    const dir = spoolDir();
    await acquire(dir);
    expect(statSync(join(dir, SPOOL_LOCK_FILE)).mode & 0o777).toBe(0o600);
    const refusal = await acquire(dir).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(SpoolInUseError);
    expect(refusal).toBeInstanceOf(ConfigError);
    const { message } = refusal as Error;
    expect(message).toContain(`queue.spoolDir ${dir} is in use by pid ${process.pid} on ${hostname()} (started `);
    expect(message).toContain(join(dir, SPOOL_LOCK_FILE));
    expect(message).toContain('Give each worker process a spool directory of its own');
    expect(message).toContain('remove the lock file');
  });

  it('is free again once released, and leaves nothing behind', async () => {
    const dir = spoolDir();
    (await acquire(dir)).release();
    expect(readdirSync(dir)).toEqual([]);
    await acquire(dir);
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
  });

  it('takes over a lock whose holder stopped refreshing it', async () => {
    const dir = spoolDir();
    writeFileSync(join(dir, SPOOL_LOCK_FILE), JSON.stringify({ pid: 1, hostname: 'gone', startedAt: '', token: 'x' }));
    age(dir, 31_000);
    await acquire(dir);
    expect(JSON.parse(readFileSync(join(dir, SPOOL_LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    // Nothing is left of the old lock, and the new one refuses others.
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
    await expect(acquire(dir)).rejects.toThrow(SpoolInUseError);
  });

  it('watches a fresh lock of another process: taken over once it goes stale unrefreshed (a killed worker restarted at once)', async () => {
    const dir = spoolDir();
    const timing = { heartbeatMs: 20, staleMs: 300 };
    writeFileSync(
      join(dir, SPOOL_LOCK_FILE),
      JSON.stringify({ pid: 1, hostname: 'killed', startedAt: '', token: 'x' }),
    );
    const waits: string[] = [];
    const started = Date.now();
    locks.push(await SpoolLock.acquire(dir, { timing, onWait: (message) => waits.push(message) }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(waits).toEqual([expect.stringContaining(`queue.spoolDir ${dir} is in use by pid 1 on killed`)]);
    expect(JSON.parse(readFileSync(join(dir, SPOOL_LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('watches a fresh lock of another process: refused as soon as its holder refreshes it', async () => {
    const dir = spoolDir();
    const timing = { heartbeatMs: 20, staleMs: 5_000 };
    const path = join(dir, SPOOL_LOCK_FILE);
    writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'alive', startedAt: '', token: 'x' }));
    age(dir, 1_000);
    const heartbeat = setInterval(() => utimesSync(path, new Date(), new Date()), 50);
    const started = Date.now();
    try {
      await expect(SpoolLock.acquire(dir, { timing })).rejects.toThrow(
        `queue.spoolDir ${dir} is in use by pid 1 on alive`,
      );
    } finally {
      clearInterval(heartbeat);
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: 1 });
  });

  it('takes over a lock a crashed holder left empty, naming nobody while it waits', async () => {
    const dir = spoolDir();
    writeFileSync(join(dir, SPOOL_LOCK_FILE), '');
    const waits: string[] = [];
    locks.push(
      await SpoolLock.acquire(dir, {
        timing: { heartbeatMs: 20, staleMs: 100 },
        onWait: (message) => waits.push(message),
      }),
    );
    expect(waits).toEqual([expect.stringContaining(`queue.spoolDir ${dir} is in use by another process`)]);
  });

  it('keeps its lock fresh while held, so that it is never taken over', async () => {
    const dir = spoolDir();
    const timing = { heartbeatMs: 10, staleMs: 500 };
    await acquire(dir, timing);
    age(dir, 60_000);
    await vi.waitFor(() => expect(Date.now() - statSync(join(dir, SPOOL_LOCK_FILE)).mtimeMs).toBeLessThan(500));
    await expect(acquire(dir, timing)).rejects.toThrow(SpoolInUseError);
  });

  it('does not remove a lock another process has taken over since', async () => {
    const dir = spoolDir();
    const stalled = await acquire(dir);
    const theirs = JSON.stringify({ pid: 2, hostname: 'newcomer', startedAt: '', token: 'theirs' });
    writeFileSync(join(dir, SPOOL_LOCK_FILE), theirs);
    stalled.release();
    expect(readFileSync(join(dir, SPOOL_LOCK_FILE), 'utf8')).toBe(theirs);
  });

  it("is not taken over on its age alone: a holder whose clock runs an hour behind this one's is refused", async () => {
    const dir = spoolDir();
    const path = join(dir, SPOOL_LOCK_FILE);
    writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'behind', startedAt: '', token: 'x' }));
    const refresh = () => {
      const then = new Date(Date.now() - 3_600_000);
      utimesSync(path, then, then);
    };
    refresh();
    const heartbeat = setInterval(refresh, 20);
    try {
      await expect(acquire(dir, { heartbeatMs: 100, staleMs: 300 })).rejects.toThrow(SpoolInUseError);
    } finally {
      clearInterval(heartbeat);
    }
  });

  it('stops refreshing a lock another process took over from it, and says so', async () => {
    const dir = spoolDir();
    const path = join(dir, SPOOL_LOCK_FILE);
    const lost: string[] = [];
    locks.push(await SpoolLock.acquire(dir, { timing: FAST, onLost: (message) => lost.push(message) }));
    writeFileSync(path, JSON.stringify({ pid: 2, hostname: 'newcomer', startedAt: '', token: 'theirs' }));
    age(dir, 60_000);
    await vi.waitFor(() => expect(lost).toEqual([expect.stringContaining('is in use by pid 2 on newcomer')]));
    await new Promise((resolve) => setTimeout(resolve, 5 * FAST.heartbeatMs));
    expect(Date.now() - statSync(path).mtimeMs).toBeGreaterThanOrEqual(60_000);
    expect(lost).toHaveLength(1);
  });

  it('is released when its process exits without releasing it', () => {
    const dir = spoolDir();
    const script = `
      import { SpoolLock } from ${JSON.stringify(new URL('./spoolLock.ts', import.meta.url).href)};
      await SpoolLock.acquire(${JSON.stringify(dir)});
      process.exitCode = 3;
    `;
    // The flag for Node 22.12, which CI runs these tests on too: type stripping is the default from 22.18 on.
    expect(() =>
      execFileSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e', script], {
        stdio: 'pipe',
        timeout: 10_000,
      }),
    ).toThrow(expect.objectContaining({ status: 3 }));
    expect(existsSync(join(dir, SPOOL_LOCK_FILE))).toBe(false);
  });
});
