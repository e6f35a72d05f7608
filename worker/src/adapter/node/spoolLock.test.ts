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
import { SPOOL_LOCK_FILE, SpoolInUseError, SpoolLock } from './spoolLock.ts';

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

function acquire(dir: string, timing?: Parameters<typeof SpoolLock.acquire>[1]): SpoolLock {
  const lock = SpoolLock.acquire(dir, timing);
  locks.push(lock);
  return lock;
}

/** Backdates the lock's last heartbeat. */
function age(dir: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(join(dir, SPOOL_LOCK_FILE), then, then);
}

describe('SpoolLock', () => {
  it('refuses a second holder while the first is alive, naming the directory, the holder and the way out', () => {
    const dir = spoolDir();
    acquire(dir);
    expect(statSync(join(dir, SPOOL_LOCK_FILE)).mode & 0o777).toBe(0o600);
    let refusal: unknown;
    try {
      acquire(dir);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(SpoolInUseError);
    expect(refusal).toBeInstanceOf(ConfigError);
    const { message } = refusal as Error;
    expect(message).toContain(`queue.spoolDir ${dir} is in use by pid ${process.pid} on ${hostname()} (started `);
    expect(message).toContain(join(dir, SPOOL_LOCK_FILE));
    expect(message).toContain('Give each worker process a spool directory of its own');
    expect(message).toContain('remove the lock file');
  });

  it('is free again once released, and leaves nothing behind', () => {
    const dir = spoolDir();
    acquire(dir).release();
    expect(readdirSync(dir)).toEqual([]);
    acquire(dir);
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
  });

  it('takes over a lock whose holder stopped refreshing it', () => {
    const dir = spoolDir();
    writeFileSync(join(dir, SPOOL_LOCK_FILE), JSON.stringify({ pid: 1, hostname: 'gone', startedAt: '', token: 'x' }));
    age(dir, 31_000);
    acquire(dir);
    expect(JSON.parse(readFileSync(join(dir, SPOOL_LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    // Nothing is left of the old lock, and the new one refuses others.
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
    expect(() => acquire(dir)).toThrow(SpoolInUseError);
  });

  it('takes over a lock a crashed holder left empty, naming nobody while it is fresh', () => {
    const dir = spoolDir();
    writeFileSync(join(dir, SPOOL_LOCK_FILE), '');
    expect(() => acquire(dir)).toThrow(`queue.spoolDir ${dir} is in use by another process`);
    age(dir, 31_000);
    acquire(dir);
  });

  it('keeps its lock fresh while held, so that it is never taken over', async () => {
    const dir = spoolDir();
    const timing = { heartbeatMs: 10, staleMs: 500 };
    acquire(dir, timing);
    age(dir, 60_000);
    await vi.waitFor(() => expect(Date.now() - statSync(join(dir, SPOOL_LOCK_FILE)).mtimeMs).toBeLessThan(500));
    expect(() => acquire(dir, timing)).toThrow(SpoolInUseError);
  });

  it('does not remove a lock another process has taken over since', () => {
    const dir = spoolDir();
    const stalled = acquire(dir);
    age(dir, 31_000);
    acquire(dir);
    stalled.release();
    expect(readdirSync(dir)).toEqual([SPOOL_LOCK_FILE]);
    expect(() => acquire(dir)).toThrow(SpoolInUseError);
  });

  it('is released when its process exits without releasing it', () => {
    const dir = spoolDir();
    const script = `
      import { SpoolLock } from ${JSON.stringify(new URL('./spoolLock.ts', import.meta.url).href)};
      SpoolLock.acquire(${JSON.stringify(dir)});
      process.exitCode = 3;
    `;
    expect(() =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe', timeout: 10_000 }),
    ).toThrow(expect.objectContaining({ status: 3 }));
    expect(existsSync(join(dir, SPOOL_LOCK_FILE))).toBe(false);
  });
});
