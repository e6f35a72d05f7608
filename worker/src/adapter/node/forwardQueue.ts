/**
 * Node's durable path to the collector: a bounded in-memory queue that overflows into an on-disk spool,
 * drained by a few concurrent senders that retry until the batch is delivered, refused, or too old.
 *
 *     const queue = await ForwardQueue.open(config.queue, { send, onDone, now: Date.now });
 *     if (!queue.enqueue(payload)) → answer 503 + Retry-After
 *     queue.holdOnDisk();    // on SIGTERM, at once: what it holds, and what requests under way bring, go to disk
 *     await queue.close();   // then: waits for exports in flight (or, without a spool, sends what it can)
 *
 * A request is answered 200 only once its batch is in the queue, so the worker loses nothing it accepted
 * while the collector is down: batches wait in memory, then in the spool (one file per batch, written to a
 * temporary name, flushed to the disk and renamed, so neither a crash nor a power cut leaves half a batch), and
 * are sent once the collector answers again. Spooled batches survive a restart: `open` picks them up, and a file
 * whose size is not the one its name says is dropped (and counted), not sent. What memory holds is lost with a
 * process killed outright (SIGKILL, out of memory): `maxMemoryBatches` bounds it. Delivery is at least once: a
 * batch whose export was under way when the process died, or whose file could not be removed, is sent again after
 * a restart. A batch leaves the queue on delivery (`forwarded`), on a final refusal (`forward_failed`) or after
 * `maxRetrySeconds` (`dropped`), and its spool file with it. Past both capacities `enqueue` says no, and the app answers
 * 503, never dropping silently. The spool belongs to one process: `open` refuses a directory another live process
 * holds (see spoolLock.ts), its files only their owner (0600) may read, since they hold the spans, and a file that
 * vanished from under it (an operator) is skipped rather than taking the process down.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { EdgeConfig } from '../../config.ts';
import {
  type ExportResult,
  exportGroups,
  refusedReason,
  sendMerged,
  type UndeliveredReason,
  type UpstreamPayload,
} from '../../pipeline/forward.ts';
import { SpoolLock, type SpoolLockTiming } from './spoolLock.ts';

export type DeliveryOutcome = 'forwarded' | 'forward_failed' | 'dropped';

/** Why a batch was not delivered: a label for the metrics and a message for the log. */
export interface Undelivered {
  reason: UndeliveredReason;
  message: string;
}

export interface ForwardQueueHooks {
  send(payload: UpstreamPayload): Promise<ExportResult>;
  /** `why` is there for every outcome but `forwarded`. */
  onDone(payload: UpstreamPayload, outcome: DeliveryOutcome, why?: Undelivered): void;
  now(): number;
  /** Start-up waits for the spool's lock, which another process may hold (see spoolLock.ts). */
  onLockWait?(message: string): void;
  /** Another process took the spool's lock over from this one, which stood still for too long. */
  onLockLost?(message: string): void;
  /** A batch could not be written to the spool (a full disk, permissions): it was refused or counted dropped. */
  onSpoolError?(message: string): void;
}

interface Item {
  payload: UpstreamPayload;
  firstAttemptAt: number;
  nextAttemptAt: number;
  inFlight: boolean;
  /** Not sent yet: it may go before `nextAttemptAt` with others, where a retry keeps to its Retry-After. */
  fresh: boolean;
  /** Spool file holding this batch, removed once the batch leaves the queue. */
  file?: string;
}

interface Spooled {
  file: string;
  bytes: number;
}

/** What one tenant holds, against `maxTenantShare`. */
interface TenantUse {
  memoryBatches: number;
  memoryBytes: number;
  spoolBytes: number;
  /** Its spooled batches, oldest first: a tenant at its memory share does not hold up the others' refill. */
  spooled: Spooled[];
}

/** The gap between attempts of one batch, at least: the breaker's own wait can be longer. */
const MIN_RETRY_GAP_MS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** `<first attempt>-<sequence>.<tenant>.<spans>.<bytes>.<format>`; files of older workers have no `<bytes>`. */
const SPOOL_NAME = /^(\d{13})-(\d{6})\.([\w-]{1,64})\.(\d+)(?:\.(\d+))?\.(pb|json)$/;

export class ForwardQueue {
  readonly #options: EdgeConfig['queue'];
  readonly #hooks: ForwardQueueHooks;
  /** In arrival order; a Set so that removing a delivered batch does not search the backlog. */
  readonly #memory = new Set<Item>();
  readonly #tenants = new Map<string, TenantUse>();
  #lock: SpoolLock | undefined;
  #memoryBytes = 0;
  #spoolBytes = 0;
  #inFlight = 0;
  #sequence = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Shutting down with a spool: nothing more is sent, and every batch is on disk before it is acknowledged. */
  #holding = false;
  #closing = false;
  /** Closed: nothing more is sent, even without a spool. */
  #stopped = false;
  /** Resolves `close`'s wait: no export in flight (with a spool), or nothing left to send (without). */
  #idle: (() => void) | undefined;

  private constructor(options: EdgeConfig['queue'], hooks: ForwardQueueHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /**
   * Opens the queue, taking over batches a previous process left in the spool. Rejects with SpoolInUseError while
   * another live process holds the spool.
   */
  static async open(
    options: EdgeConfig['queue'],
    hooks: ForwardQueueHooks,
    lockTiming?: SpoolLockTiming,
  ): Promise<ForwardQueue> {
    const queue = new ForwardQueue(options, hooks);
    if (options.spoolDir) {
      mkdirSync(options.spoolDir, { recursive: true, mode: 0o700 });
      queue.#lock = await SpoolLock.acquire(options.spoolDir, {
        timing: lockTiming,
        onWait: hooks.onLockWait,
        onLost: hooks.onLockLost,
      });
      try {
        const files = readdirSync(options.spoolDir);
        // A write a crash interrupted, never renamed: not a batch anyone acknowledged.
        for (const file of files.filter((f) => f.endsWith('.tmp') && SPOOL_NAME.test(f.slice(0, -4)))) {
          rmSync(join(options.spoolDir, file), { force: true });
        }
        // Spool files only: the lock is not a batch.
        for (const file of files.filter((f) => SPOOL_NAME.test(f)).sort()) {
          const bytes = sizeOf(join(options.spoolDir, file));
          if (bytes === undefined) continue;
          queue.#addSpooled(tenantOf(file), { file, bytes });
        }
      } catch (error) {
        queue.#lock.release();
        throw error;
      }
    }
    queue.#pump();
    return queue;
  }

  get depth(): number {
    let spooled = 0;
    for (const use of this.#tenants.values()) spooled += use.spooled.length;
    return this.#memory.size + spooled;
  }

  get bytes(): number {
    return this.#memoryBytes + this.#spoolBytes;
  }

  /** Whether a batch of `tenant` would be taken now (its size unknown yet: the body is not read). */
  hasCapacity(tenant: string): boolean {
    if (this.#closing) return false;
    if (!this.#holding && this.#memoryHasRoom(tenant, 1)) return true;
    return this.#spoolHasRoom(tenant, 1);
  }

  /** Takes a batch; false when memory and spool are both full, or the tenant's share of them (or the queue is closing). */
  enqueue(payload: UpstreamPayload): boolean {
    if (this.#closing) return false;
    const now = this.#hooks.now();
    const bytes = payload.body.byteLength;
    if (!this.#holding && this.#memoryHasRoom(payload.tenant, bytes)) {
      this.#memory.add({
        payload,
        firstAttemptAt: now,
        nextAttemptAt: now + this.#options.mergeDelayMs,
        inFlight: false,
        fresh: true,
      });
      this.#addMemory(payload.tenant, bytes);
    } else if (
      !this.#spoolHasRoom(payload.tenant, bytes) ||
      // A spool that cannot be written to is full too: the sender hears 503 and sends again later.
      !this.#spool(payload, now)
    ) {
      return false;
    }
    this.#pump();
    return true;
  }

  #use(tenant: string): TenantUse {
    let use = this.#tenants.get(tenant);
    if (!use) {
      use = { memoryBatches: 0, memoryBytes: 0, spoolBytes: 0, spooled: [] };
      this.#tenants.set(tenant, use);
    }
    return use;
  }

  // Bytes as well as batches: a batch can be megabytes, and what the heap holds is lost if the process dies.
  #memoryHasRoom(tenant: string, bytes: number): boolean {
    const { maxMemoryBatches, maxMemoryBytes, maxTenantShare } = this.#options;
    const use = this.#use(tenant);
    return (
      this.#memory.size < maxMemoryBatches &&
      this.#memoryBytes + bytes <= maxMemoryBytes &&
      use.memoryBatches < maxMemoryBatches * maxTenantShare &&
      use.memoryBytes + bytes <= maxMemoryBytes * maxTenantShare
    );
  }

  #spoolHasRoom(tenant: string, bytes: number): boolean {
    const { spoolDir, maxSpoolBytes, maxTenantShare } = this.#options;
    return (
      spoolDir !== undefined &&
      this.#spoolBytes + bytes <= maxSpoolBytes &&
      this.#use(tenant).spoolBytes + bytes <= maxSpoolBytes * maxTenantShare
    );
  }

  #addMemory(tenant: string, bytes: number): void {
    const use = this.#use(tenant);
    use.memoryBatches++;
    use.memoryBytes += bytes;
    this.#memoryBytes += bytes;
  }

  #addSpooled(tenant: string, spooled: Spooled): void {
    const use = this.#use(tenant);
    use.spooled.push(spooled);
    use.spoolBytes += spooled.bytes;
    this.#spoolBytes += spooled.bytes;
  }

  /**
   * The first thing on SIGTERM, with a spool: stops sending, writes every batch held to disk now (those in flight
   * too: if their export succeeds, their file goes), and from now on writes each new batch to disk before it is
   * acknowledged. A stop that outlasts its grace (`docker stop` kills after 10 s) then loses nothing accepted.
   * Without a spool it does nothing: the batches held can only be sent, which `close` goes on doing.
   */
  holdOnDisk(): void {
    if (this.#options.spoolDir === undefined || this.#holding) return;
    this.#holding = true;
    clearTimeout(this.#timer);
    for (const item of this.#memory) item.file ??= this.#write(item.payload, item.firstAttemptAt, false);
    // One flush of the directory for all the renames, not one each: a stop may have hundreds of batches to write.
    this.#syncDirectory();
  }

  /**
   * Stops taking batches. With a spool: holds everything on disk (`holdOnDisk`), waits up to `timeoutMs` for
   * exports in flight, and writes again what could not be written. Without one, the batches held can only be
   * sent: it goes on sending for up to `timeoutMs`, and what is still undelivered then is reported `dropped`,
   * never lost silently.
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.holdOnDisk();
    this.#closing = true;
    const spooling = this.#options.spoolDir !== undefined;
    if (spooling ? this.#inFlight > 0 : this.#memory.size > 0) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        setTimeout(resolve, timeoutMs).unref();
      });
    }
    clearTimeout(this.#timer);
    this.#stopped = true;
    // Batches still in flight are spooled (or counted) too; if their export completes after all, their file goes.
    for (const item of [...this.#memory]) {
      if (spooling) item.file ??= this.#write(item.payload, item.firstAttemptAt);
      if (!item.file)
        this.#remove(item, 'dropped', {
          reason: 'stopped',
          message: spooling
            ? 'the worker stopped before delivering it, and could not write it to queue.spoolDir'
            : 'the worker stopped before delivering it, and has no queue.spoolDir',
        });
    }
    this.#lock?.release();
  }

  /** Writes a batch to the spool, for `#refill` to take up; false when that fails, leaving no file behind. */
  #spool(payload: UpstreamPayload, now: number): boolean {
    const file = this.#write(payload, now);
    if (file === undefined) return false;
    this.#addSpooled(payload.tenant, { file, bytes: payload.body.byteLength });
    return true;
  }

  /**
   * Writes a batch's file; undefined when that fails, leaving no file behind. A batch memory holds too (written
   * when the worker stops) is not listed among the spooled ones: it is in the queue once.
   */
  #write(payload: UpstreamPayload, now: number, syncDirectory = true): string | undefined {
    const dir = this.#options.spoolDir as string;
    const sequence = String(this.#sequence++ % 1_000_000).padStart(6, '0');
    const extension = payload.contentType === 'application/json' ? 'json' : 'pb';
    const file = `${now}-${sequence}.${payload.tenant}.${payload.spans}.${payload.body.byteLength}.${extension}`;
    try {
      // Flushed before the rename, and the rename flushed with the directory: after a power cut the file is
      // there whole, or not at all, and the 200 that follows is not a promise the disk forgot.
      const fd = openSync(join(dir, `${file}.tmp`), 'w', 0o600);
      try {
        writeFileSync(fd, payload.body);
        if (this.#options.fsync) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(join(dir, `${file}.tmp`), join(dir, file));
    } catch (error) {
      try {
        rmSync(join(dir, `${file}.tmp`), { force: true });
      } catch {}
      this.#hooks.onSpoolError?.(`a batch could not be spooled: ${(error as Error).message}`);
      return undefined;
    }
    if (syncDirectory) this.#syncDirectory();
    return file;
  }

  /**
   * Flushes the spool directory, so that renames survive a power cut. A failure is reported and no more: the
   * batches' files are whole and in place, and a crash before the flush loses a rename at worst.
   */
  #syncDirectory(): void {
    if (!this.#options.fsync) return;
    try {
      const fd = openSync(this.#options.spoolDir as string, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.#hooks.onSpoolError?.(`the spool directory could not be flushed: ${(error as Error).message}`);
    }
  }

  /**
   * Moves spooled batches into memory while there is room (one at least, however large): the oldest of those
   * whose tenant has room in its share, so that one tenant's backlog does not hold up the others'.
   */
  #refill(): void {
    const dir = this.#options.spoolDir;
    while (dir) {
      const use = this.#nextSpooled();
      if (!use) break;
      const { file, bytes } = use.spooled.shift() as Spooled;
      use.spoolBytes -= bytes;
      this.#spoolBytes -= bytes;
      const [, at, , tenant, spans, written, extension] = SPOOL_NAME.exec(file) as unknown as string[];
      let body: Uint8Array;
      try {
        body = new Uint8Array(readFileSync(join(dir, file)));
      } catch (error) {
        if (isGone(error)) continue;
        // Unreadable for now (permissions, too many open files): it stays spooled, for the next refill.
        this.#addSpooled(tenant as string, { file, bytes });
        break;
      }
      const payload: UpstreamPayload = {
        tenant: tenant as string,
        spans: Number(spans),
        contentType: extension === 'json' ? 'application/json' : 'application/x-protobuf',
        body,
      };
      if (written !== undefined && body.byteLength !== Number(written)) {
        // Emptied or cut short on the disk (a filesystem repaired after a crash, a hand): what it holds is not
        // what was acknowledged, and sending it would count the batch delivered.
        try {
          rmSync(join(dir, file), { force: true });
        } catch {}
        this.#hooks.onDone(payload, 'dropped', {
          reason: 'spool_corrupt',
          message: `spool file ${file} does not hold the batch its name says`,
        });
        continue;
      }
      this.#memory.add({
        payload,
        firstAttemptAt: Number(at),
        nextAttemptAt: 0,
        inFlight: false,
        fresh: true,
        file,
      });
      this.#addMemory(payload.tenant, bytes);
    }
  }

  /** The tenant whose oldest spooled batch is the oldest of those memory has room for. */
  #nextSpooled(): TenantUse | undefined {
    let next: TenantUse | undefined;
    for (const [tenant, use] of this.#tenants) {
      const head = use.spooled[0];
      if (!head || (next && (next.spooled[0] as Spooled).file < head.file)) continue;
      if (this.#memory.size === 0 || this.#memoryHasRoom(tenant, head.bytes)) next = use;
    }
    return next;
  }

  /**
   * Sends what is due, merging the batches of a tenant that wait into exports of up to `mergeMaxBytes`: an
   * export goes when one of its batches is due (a new one after `mergeDelayMs`, a retried one at its next
   * attempt) or when it is full. The oldest batches go first.
   */
  #pump(): void {
    // Holding on disk (a stop, with a spool) stops sending at once: the spool keeps what is left. Without one,
    // sending goes on until `close` gives up, with no more waiting for batches to merge with.
    if (this.#stopped || this.#holding) return;
    this.#refill();
    const now = this.#hooks.now();
    const { mergeMaxBytes, mergeDelayMs, concurrency } = this.#options;
    if (this.#inFlight >= concurrency) return;
    let nextWake = Number.POSITIVE_INFINITY;
    const dueAt = (item: Item) => (this.#closing && item.fresh ? now : item.nextAttemptAt);
    const free = concurrency - this.#inFlight;
    const candidates: Item[] = [];
    let candidateBytes = 0;
    for (const item of this.#memory) {
      if (item.inFlight) continue;
      // A retry waits for its own time; a new batch may go early, with others that are due.
      if (dueAt(item) <= now || (item.fresh && item.nextAttemptAt <= now + mergeDelayMs)) {
        candidates.push(item);
        candidateBytes += item.payload.body.byteLength;
        // Enough to fill every free sender: the rest of a backlog waits for the next pump, rather than being
        // read again by every pump (each export's end makes one) while thousands of batches wait.
        if (candidates.length >= free && candidateBytes >= free * mergeMaxBytes) break;
      } else nextWake = Math.min(nextWake, item.nextAttemptAt);
    }
    for (const { items, full } of exportGroups(candidates, (item) => item.payload, mergeMaxBytes)) {
      if (this.#inFlight >= concurrency) break;
      let due = Number.POSITIVE_INFINITY;
      for (const item of items) due = Math.min(due, dueAt(item));
      // A full export goes at once, due or not, as the collector's batch processor sends at its size.
      if (full || due <= now) this.#send(items);
      else nextWake = Math.min(nextWake, due);
    }
    clearTimeout(this.#timer);
    if (nextWake !== Number.POSITIVE_INFINITY && this.#inFlight < concurrency) {
      // Node fires a timer of more than 2^31 - 1 ms at once: a long wait wakes early and waits again.
      this.#timer = setTimeout(() => this.#pump(), Math.min(MAX_TIMER_MS, Math.max(10, nextWake - now)));
    }
  }

  /** One export of `items`, merged (`sendMerged`); each batch's outcome is its own result. */
  #send(items: Item[]): void {
    for (const item of items) {
      item.inFlight = true;
      item.fresh = false;
    }
    this.#inFlight++;
    const send = (payload: UpstreamPayload) =>
      this.#hooks
        .send(payload)
        .catch((error: Error): ExportResult => ({ kind: 'retry', afterMs: 0, reason: error.message }));
    void sendMerged(
      items.map((item) => item.payload),
      send,
    ).then((results) => {
      this.#inFlight--;
      const now = this.#hooks.now();
      items.forEach((item, i) => {
        const result = results[i] as ExportResult;
        item.inFlight = false;
        if (result.kind === 'delivered') this.#remove(item, 'forwarded');
        else if (result.kind === 'failed')
          this.#remove(item, 'forward_failed', { reason: refusedReason(result.status), message: result.reason });
        else if (now >= item.firstAttemptAt + this.#options.maxRetrySeconds * 1000)
          this.#remove(item, 'dropped', { reason: 'retries_exhausted', message: result.reason });
        // A Retry-After beyond the batch's retry budget (days, from a misconfigured upstream) leaves it one
        // last attempt when the budget ends, rather than holding it past it.
        else
          item.nextAttemptAt = Math.min(
            now + Math.max(MIN_RETRY_GAP_MS, result.afterMs),
            item.firstAttemptAt + this.#options.maxRetrySeconds * 1000,
          );
      });
      if (this.#options.spoolDir !== undefined ? this.#inFlight === 0 : this.#memory.size === 0) this.#idle?.();
      this.#pump();
    });
  }

  #remove(item: Item, outcome: DeliveryOutcome, why?: Undelivered): void {
    // An export that ends after `close` counted its batch dropped has nothing left to report.
    if (!this.#memory.delete(item)) return;
    const use = this.#use(item.payload.tenant);
    use.memoryBatches--;
    use.memoryBytes -= item.payload.body.byteLength;
    this.#memoryBytes -= item.payload.body.byteLength;
    // Gone already is as good as removed; a file that cannot be removed is sent again after a restart, which is
    // better than a crash that loses what memory holds.
    if (item.file) {
      try {
        rmSync(join(this.#options.spoolDir as string, item.file), { force: true });
      } catch {}
    }
    this.#hooks.onDone(item.payload, outcome, why);
  }
}

const tenantOf = (file: string) => SPOOL_NAME.exec(file)?.[3] as string;

const isGone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** A spool file's size, or undefined when it is gone (removed by hand since it was listed). */
function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}
