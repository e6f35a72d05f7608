/**
 * A stack's processes on disk, per port base: <dataDir>/pids.json, and a pointer to it in the cache dir
 * (stack-<base>.json). With it `node e2e/stack/stop.ts` stops a stack another process started, and the next
 * start on that base stops what a run killed outright (SIGKILL) left — unless the run that owns the stack is
 * still alive, or the stack is detached (it has no owner: it runs until stop.ts), which it leaves alone.
 *
 *   const claim = claimBase(base);             // throws while another start on the base is under way
 *   await stopStackLeftovers(base, log);       // throws if a live run or a detached stack holds the base
 *   const record = recordStack(state);
 *   record.save(processes);   …   claim.release();   …   record.forget({ keepLogs: failed });
 *   await stopRecordedStack(base);             // what stop.ts does
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rumkitCacheDir } from './cacheDir.ts';
import { type LoggedProcess, stopInReverseOrder } from './launchProcesses.ts';
import { DEFAULT_PORT_BASE, portBaseFromEnv } from './ports.ts';
import type { StackUrls } from './stack.ts';
import { isRunning, type RecordedProcess, thisProcess } from './stopProcesses.ts';

export type StackState = {
  base: number;
  urls: StackUrls;
  dataDir: string;
  keepData: boolean;
  startedAt: string;
  /** The run that stops the stack when it ends (see thisProcess); none for a detached stack. */
  owner?: RecordedProcess;
  processes: LoggedProcess[];
};

export type StackRecord = {
  save: (processes: LoggedProcess[]) => void;
  /** Removes the record, and the data dir unless the stack keeps its data; `keepLogs` spares its *.log files. */
  forget: (options: { keepLogs: boolean }) => void;
};

/**
 * Claims a port base for one start, from its checks until its processes are recorded: two starts at once on a base
 * would otherwise both find it free, and the one whose processes then fail to bind would remove the record of the
 * other's. A claim whose process died (a start killed outright) is taken over.
 */
export function claimBase(base: number): { release: () => void } {
  const file = join(cacheDir(), `stack-${base}.starting`);
  const me = thisProcess();
  for (;;) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readJson<RecordedProcess>(file);
    if (holder && isRunning(holder)) {
      throw new Error(
        `a stack on port base ${base} is being started by process ${holder.pid}; wait for it, or choose another RUMKIT_PORT_BASE`,
      );
    }
    rmSync(file, { force: true });
  }
  return {
    release: () => {
      if (readJson<RecordedProcess>(file)?.pid === me.pid) rmSync(file, { force: true });
    },
  };
}

export async function stopStackLeftovers(base: number, log: (line: string) => void): Promise<void> {
  const pointerFile = stackPointerFile(base);
  const state = readState(pointerFile);
  if (!state) {
    rmSync(pointerFile, { force: true });
    return;
  }
  const running = state.processes.filter(isRunning);
  if (state.owner ? isRunning(state.owner) : running.length > 0) {
    const started = `started ${state.startedAt}, data in ${state.dataDir}`;
    throw new Error(
      `${
        state.owner
          ? `a stack on port base ${base} is already running, owned by process ${state.owner.pid} (${started}); end that process, or stop the stack with`
          : `a detached stack on port base ${base} is already running (${started}); stop it with`
      }: ${stopCommand(base)} — or choose another RUMKIT_PORT_BASE`,
    );
  }
  if (running.length) {
    log(
      `stack: stopping what an earlier run left on port base ${base}: ${running.map(({ name, pid }) => `${name} (${pid})`).join(', ')}`,
    );
    await stopInReverseOrder(running);
  }
  removeStackFiles(state, pointerFile, false);
}

export function recordStack(state: StackState): StackRecord {
  const pointerFile = stackPointerFile(state.base);
  const stateFile = join(state.dataDir, 'pids.json');
  return {
    save: (processes) => {
      state.processes = processes;
      writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
      writeFileSync(pointerFile, `${JSON.stringify({ stateFile })}\n`);
    },
    forget: ({ keepLogs }) => removeStackFiles(state, pointerFile, keepLogs),
  };
}

/** Stops the stack recorded for a port base, whoever started it; false if none was recorded. */
export async function stopRecordedStack(base = portBaseFromEnv()): Promise<boolean> {
  const pointerFile = stackPointerFile(base);
  const state = readState(pointerFile);
  if (!state) {
    rmSync(pointerFile, { force: true });
    return false;
  }
  await stopInReverseOrder(state.processes);
  removeStackFiles(state, pointerFile, false);
  return true;
}

/** The command that stops the stack on a port base, as a user would type it. */
export function stopCommand(base: number): string {
  return `${base === DEFAULT_PORT_BASE ? '' : `RUMKIT_PORT_BASE=${base} `}node e2e/stack/stop.ts`;
}

function readState(pointerFile: string): StackState | undefined {
  const pointer = readJson<{ stateFile: string }>(pointerFile);
  return pointer && readJson<StackState>(pointer.stateFile);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function removeStackFiles(state: StackState, pointerFile: string, keepLogs: boolean): void {
  if (readState(pointerFile)?.dataDir === state.dataDir) rmSync(pointerFile, { force: true });
  if (state.keepData) return;
  if (!keepLogs) {
    rmSync(state.dataDir, { recursive: true, force: true });
    return;
  }
  for (const entry of readdirSync(state.dataDir)) {
    if (!entry.endsWith('.log')) rmSync(join(state.dataDir, entry), { recursive: true, force: true });
  }
}

function stackPointerFile(base: number): string {
  return join(cacheDir(), `stack-${base}.json`);
}

function cacheDir(): string {
  const dir = rumkitCacheDir();
  mkdirSync(dir, { recursive: true });
  return dir;
}
