/**
 * A stack's processes on disk, per port base: <dataDir>/pids.json, and a pointer to it in the cache dir
 * (stack-<base>.json). With it `node e2e/stack/stop.ts` stops a stack another process started, and the next
 * start on that base stops what a run killed outright (SIGKILL) left — unless the run that owns the stack is
 * still alive, or the stack is detached (it has no owner: it runs until stop.ts), which it leaves alone.
 *
 *   await stopStackLeftovers(base, log);       // throws if a live run or a detached stack holds the base
 *   const record = recordStack(state);
 *   record.save(processes);   …   record.forget({ keepLogs: failed });
 *   await stopRecordedStack(base);             // what stop.ts does
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rumkitCacheDir } from './cacheDir.ts';
import { type LoggedProcess, stopInReverseOrder } from './launchProcesses.ts';
import { DEFAULT_PORT_BASE, portBaseFromEnv } from './ports.ts';
import type { StackUrls } from './stack.ts';
import { isRunning, type RecordedProcess } from './stopProcesses.ts';

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
  try {
    const { stateFile } = JSON.parse(readFileSync(pointerFile, 'utf8')) as { stateFile: string };
    return JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
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
  const dir = rumkitCacheDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, `stack-${base}.json`);
}
