/**
 * One process per spool directory. Two workers wrongly given the same `queue.spoolDir` (a copied configuration,
 * two containers mounting one volume, a restart while the old process still drains) would both take over its
 * files: every batch sent twice, and files deleted under the other's exports.
 *
 *     const lock = await SpoolLock.acquire(dir);   // rejects with SpoolInUseError while another process holds it
 *     lock.release();
 *
 * Node has no flock, and a PID means nothing across containers sharing a volume, so the lock is a lease: a file
 * created exclusively, whose mtime its holder refreshes every `heartbeatMs`. A newcomer that finds one watches it,
 * on its own clock (the holder's may be skewed): refreshed meanwhile, its holder lives and the newcomer is refused;
 * unrefreshed until it is `staleMs` old, and for two heartbeats at least, it was left by a process that died
 * without releasing it (a worker killed outright and restarted straight away finds its own last lock) and is taken
 * over. Like any lease, it is lost by a holder that stands still for longer than that (a suspended VM, SIGSTOP):
 * the holder notices at its next heartbeat, stops refreshing what is no longer its lock, and says so.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../config.ts';

export const SPOOL_LOCK_FILE = 'rumkit-edge.lock';

export interface SpoolLockTiming {
  heartbeatMs: number;
  staleMs: number;
}

/** Three missed heartbeats before a lock counts as abandoned: a busy event loop delays one, not three. */
export const SPOOL_LOCK_TIMING: SpoolLockTiming = { heartbeatMs: 10_000, staleMs: 30_000 };

/** Each try creates the lock, refuses, or clears one released or abandoned meanwhile; rivals doing the same need a few. */
const ATTEMPTS = 3;

/** The tokens of the locks this process holds: a second holder in the same process needs no watching. */
const heldHere = new Set<string>();

/** Who holds the lock, for the message of whoever is refused; `token` tells the holder the file is still its own. */
interface Holder {
  pid: number;
  hostname: string;
  startedAt: string;
  token: string;
}

/** A ConfigError, so that the Node entry stops with its message, as it does for a bad configuration. */
export class SpoolInUseError extends ConfigError {
  override name = 'SpoolInUseError';
}

export class SpoolLock {
  readonly #path: string;
  readonly #token: string;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  // A worker that dies after opening its queue (an uncaught exception) would otherwise make its own restart wait
  // until the lock is stale, blaming a process that no longer exists.
  readonly #onExit = () => this.release();

  private constructor(path: string, token: string, heartbeatMs: number, onLost: (message: string) => void) {
    this.#path = path;
    this.#token = token;
    this.#heartbeat = setInterval(() => {
      const holder = readHolder(path);
      if (holder && holder.token !== token) {
        this.#stop();
        onLost(`${describe(dirname(path), path, holder)}, which took the lock over: this process stood still too long`);
        return;
      }
      const now = new Date();
      // A refresh that fails (the volume gone for a moment, the file removed by hand, or moved aside by a newcomer
      // checking it) must not stop a worker that is delivering: at worst another process takes the lock over.
      try {
        utimesSync(path, now, now);
      } catch {}
    }, heartbeatMs);
    this.#heartbeat.unref();
    heldHere.add(token);
    process.once('exit', this.#onExit);
  }

  /**
   * Takes `dir` for this process, or rejects with SpoolInUseError naming the process that holds it. Another
   * process's lock is watched first, for up to `staleMs`; `onWait` says so. `onLost` hears if the lock is ever
   * taken over from this process.
   */
  static async acquire(
    dir: string,
    {
      timing = SPOOL_LOCK_TIMING,
      onWait = () => {},
      onLost = () => {},
    }: { timing?: SpoolLockTiming; onWait?: (message: string) => void; onLost?: (message: string) => void } = {},
  ): Promise<SpoolLock> {
    const path = join(dir, SPOOL_LOCK_FILE);
    const holder: Holder = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      token: randomUUID(),
    };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (create(path, holder)) return new SpoolLock(path, holder.token, timing.heartbeatMs, onLost);
      const other = readHolder(path);
      if (other && heldHere.has(other.token)) break;
      const seen = mtimeOf(path);
      if (seen === undefined) continue;
      const watchMs = Math.min(timing.staleMs, Math.max(2 * timing.heartbeatMs, timing.staleMs - (Date.now() - seen)));
      onWait(
        `${describe(dir, path, other)}: waiting up to ${Math.ceil(watchMs / 1000)} s to see whether it still runs`,
      );
      if (!(await staysUnrefreshed(path, seen, watchMs, timing.heartbeatMs))) break;
      if (!removeUnrefreshed(path, seen)) break;
    }
    throw refusal(dir, path, timing.staleMs);
  }

  /** Stops the heartbeat and removes the lock, unless another process has taken it over meanwhile. */
  release(): void {
    this.#stop();
    if (readHolder(this.#path)?.token === this.#token) rmSync(this.#path, { force: true });
  }

  #stop(): void {
    clearInterval(this.#heartbeat);
    heldHere.delete(this.#token);
    process.off('exit', this.#onExit);
  }
}

/** Creates the lock with `holder` in it unless one exists; false when it does. */
function create(path: string, holder: Holder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeFileSync(fd, JSON.stringify(holder));
  } catch (error) {
    // An empty lock left by a full disk would refuse the next start, naming nobody, until it is stale.
    rmSync(path, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Whether the lock at `path`, last refreshed at `seen`, stays so (or goes away) for `watchMs`, on this clock. */
async function staysUnrefreshed(path: string, seen: number, watchMs: number, heartbeatMs: number): Promise<boolean> {
  const until = Date.now() + watchMs;
  for (;;) {
    const mtime = mtimeOf(path);
    if (mtime === undefined) return true;
    if (mtime !== seen) return false;
    if (Date.now() >= until) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(heartbeatMs / 4, 1_000)));
  }
}

/**
 * Removes the lock if it is still the one last refreshed at `seen`, and says whether the way is clear. Two
 * processes can watch the same abandoned lock, and a plain unlink by the slower one would remove the lock the
 * faster one has just created in its place: whatever is there is first moved aside (atomically), and put back if
 * it is another. Put back with a link, which fails rather than replace a lock a third process created meanwhile.
 */
function removeUnrefreshed(path: string, seen: number): boolean {
  const aside = `${path}.${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  if (mtimeOf(aside) !== seen) {
    try {
      linkSync(aside, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    rmSync(aside, { force: true });
    return false;
  }
  rmSync(aside, { force: true });
  return true;
}

/** When the lock at `path` was last refreshed, or undefined when there is none. */
function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Milliseconds since the lock at `path` was last refreshed, or undefined when there is none. */
function ageOf(path: string): number | undefined {
  const mtime = mtimeOf(path);
  return mtime === undefined ? undefined : Date.now() - mtime;
}

/** The lock's holder, or undefined when it is gone or not yet (or never) written. */
function readHolder(path: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function describe(dir: string, path: string, holder = readHolder(path)): string {
  const who = holder ? `pid ${holder.pid} on ${holder.hostname} (started ${holder.startedAt})` : 'another process';
  return `queue.spoolDir ${dir} is in use by ${who}: its lock file ${path}`;
}

function refusal(dir: string, path: string, staleMs: number): SpoolInUseError {
  const age = ageOf(path);
  const refreshed = age === undefined ? '' : `, refreshed ${Math.max(0, Math.round(age / 1000))} s ago`;
  return new SpoolInUseError(
    `${describe(dir, path)}${refreshed}. ` +
      'Give each worker process a spool directory of its own; if that process is gone, remove the lock file ' +
      `(or wait: a lock not refreshed for ${staleMs / 1000} s is taken over).`,
  );
}
