import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { type LoggedProcess, launchProcesses, stopInReverseOrder } from './launchProcesses.ts';
import { isRunning, stopProcesses } from './stopProcesses.ts';

vi.mock(import('./stopProcesses.ts'), async (importOriginal) => {
  const original = await importOriginal();
  return { ...original, stopProcesses: vi.fn(original.stopProcesses) };
});

let logDir: string;
beforeEach(() => {
  logDir = mkdtempSync(join(tmpdir(), 'rumkit-launch-test-'));
});
afterEach(() => {
  rmSync(logDir, { recursive: true, force: true });
});

it('an abort during the readiness wait stops the processes and rejects with its reason', async () => {
  const controller = new AbortController();
  let recorded: LoggedProcess[] = [];
  const sleeper = {
    name: 'sleeper',
    executable: 'sleep',
    args: ['30'],
    env: process.env,
    // Nothing answers there: the wait would last its whole timeout.
    readyUrl: 'http://127.0.0.1:1/',
    readyTimeoutMs: 30_000,
  };
  const launching = launchProcesses([sleeper], {
    logDir,
    signal: controller.signal,
    onRecorded: (processes) => {
      recorded = processes;
    },
  });
  const reason = new Error('stopped by the test');
  setTimeout(() => controller.abort(reason), 300);
  await expect(launching).rejects.toBe(reason);
  expect(recorded.map(({ name }) => name)).toEqual(['sleeper']);
  expect(recorded.filter(isRunning)).toEqual([]);
});

it('names each process it could not stop, and why', async () => {
  vi.mocked(stopProcesses).mockRejectedValueOnce(new Error('still running after SIGKILL: tempo (pid 7)'));
  await expect(stopInReverseOrder([{ name: 'tempo', pid: 7, executable: 'tempo' }])).rejects.toThrow(
    '1 processes could not be stopped: still running after SIGKILL: tempo (pid 7)',
  );
});

it('a launch that throws stops the processes launched before it', async () => {
  const sleeper = (name: string, args: string[]) => ({
    name,
    executable: 'sleep',
    args,
    env: process.env,
    readyUrl: 'http://127.0.0.1:1/',
    readyTimeoutMs: 30_000,
  });
  const stopped = vi.mocked(stopProcesses);
  stopped.mockClear();
  // A NUL byte in an argument makes spawn throw at once.
  await expect(
    launchProcesses([sleeper('first', ['30']), sleeper('second', ['3\u00000'])], { logDir }),
  ).rejects.toThrow(/must be a string without null bytes/);
  const first = stopped.mock.calls.flatMap(([processes]) => processes).find(({ name }) => name === 'first');
  expect(first?.pid).toBeGreaterThan(0);
  expect(isRunning(first as LoggedProcess)).toBe(false);
});
