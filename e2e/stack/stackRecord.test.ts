import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LoggedProcess } from './launchProcesses.ts';
import type { StackUrls } from './stack.ts';
import {
  claimBase,
  recordStack,
  type StackState,
  stopCommand,
  stopRecordedStack,
  stopStackLeftovers,
} from './stackRecord.ts';
import { isRunning, processStart, type RecordedProcess, thisProcess } from './stopProcesses.ts';

const BASE = 33_000;
let children: ChildProcess[] = [];
let tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};

async function started(command: string, args: string[]): Promise<{ child: ChildProcess; record: LoggedProcess }> {
  const child = spawn(command, args, { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  const pid = child.pid ?? 0;
  return { child, record: { name: command, pid, executable: command, started: processStart(pid), logFile: '' } };
}

/** A process that has exited, as a record: what an owner killed with SIGKILL leaves. */
async function exited(): Promise<RecordedProcess> {
  const { child, record } = await started('true', []);
  if (child.exitCode === null) await once(child, 'exit');
  return record;
}

function recorded(owner: RecordedProcess | undefined, processes: LoggedProcess[]): StackState {
  const state: StackState = {
    base: BASE,
    urls: {} as StackUrls,
    dataDir: tempDir('rumkit-stack-record-test-'),
    keepData: false,
    startedAt: new Date().toISOString(),
    owner,
    processes: [],
  };
  recordStack(state).save(processes);
  return state;
}

beforeEach(() => {
  vi.stubEnv('RUMKIT_CACHE_DIR', tempDir('rumkit-cache-test-'));
});
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children = [];
  vi.unstubAllEnvs();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs = [];
});

describe('claimBase', () => {
  it('refuses a second start on the base while the first one lives, and lets the next one in once released', () => {
    const first = claimBase(BASE);
    expect(() => claimBase(BASE)).toThrow(
      `a stack on port base ${BASE} is being started by process ${process.pid}; wait for it, or choose another RUMKIT_PORT_BASE`,
    );
    // Another base is another start's.
    claimBase(BASE + 1).release();
    first.release();
    claimBase(BASE).release();
  });

  it('takes over the claim of a start that died', async () => {
    const dead = await exited();
    const file = join(process.env.RUMKIT_CACHE_DIR as string, `stack-${BASE}.starting`);
    writeFileSync(file, JSON.stringify(dead));
    const claim = claimBase(BASE);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid });
    claim.release();
    expect(existsSync(file)).toBe(false);
  });
});

describe('stopStackLeftovers', () => {
  it('refuses while the run that owns the stack lives, and names the stop command with its port base', async () => {
    const { record } = await started('sleep', ['30']);
    recorded(thisProcess(), [record]);
    await expect(stopStackLeftovers(BASE, () => {})).rejects.toThrow(`owned by process ${process.pid}`);
    await expect(stopStackLeftovers(BASE, () => {})).rejects.toThrow(`RUMKIT_PORT_BASE=${BASE} node e2e/stack/stop.ts`);
    expect(isRunning(record)).toBe(true);
  });

  it('stops what a run that died left, and removes its data dir', async () => {
    const { record } = await started('sleep', ['30']);
    const state = recorded(await exited(), [record]);
    const log = vi.fn();
    await stopStackLeftovers(BASE, log);
    expect(isRunning(record)).toBe(false);
    expect(log).toHaveBeenCalledWith(
      `stack: stopping what an earlier run left on port base ${BASE}: sleep (${record.pid})`,
    );
    expect(existsSync(state.dataDir)).toBe(false);
    expect(await stopRecordedStack(BASE)).toBe(false);
  });

  it('refuses a detached stack while its processes run', async () => {
    const { record } = await started('sleep', ['30']);
    recorded(undefined, [record]);
    await expect(stopStackLeftovers(BASE, () => {})).rejects.toThrow(`a detached stack on port base ${BASE}`);
    expect(isRunning(record)).toBe(true);
  });

  it('removes the data dir of a detached stack whose processes all died', async () => {
    const state = recorded(undefined, [{ ...(await exited()), logFile: '' }]);
    await stopStackLeftovers(BASE, () => {});
    expect(existsSync(state.dataDir)).toBe(false);
  });
});

it('forget keeps only the logs when asked to', () => {
  const state = recorded(thisProcess(), []);
  writeFileSync(join(state.dataDir, 'tempo.log'), 'level=error\n');
  mkdirSync(join(state.dataDir, 'tempo'));
  recordStack(state).forget({ keepLogs: true });
  expect(readdirSync(state.dataDir)).toEqual(['tempo.log']);
});

it('names no port base in the stop command for the default one', () => {
  expect(stopCommand(14_300)).toBe('node e2e/stack/stop.ts');
});
