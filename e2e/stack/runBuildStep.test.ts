import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { pollUntil } from './pollUntil.ts';
import { runBuildStep } from './runBuildStep.ts';
import { isRunning } from './stopProcesses.ts';

const dir = mkdtempSync(join(tmpdir(), 'rumkit-build-step-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('an abort ends the processes the command started too, and rejects with its reason', async () => {
  const pidFile = join(dir, 'pid');
  const controller = new AbortController();
  // As ocb runs `go build`: a child that would outlive a signal to the command alone. (Not a shell's `&`, whose
  // children ignore SIGINT.)
  const command = `const child = require('node:child_process').spawn('sleep', ['30']);
    require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
    setInterval(() => {}, 1000);`;
  const running = runBuildStep(process.execPath, ['-e', command], { signal: controller.signal });
  const pid = await pollUntil(
    'the grandchild',
    async () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined),
    { timeoutMs: 5_000, intervalMs: 20 },
  );
  const reason = new Error('stopped by the test');
  controller.abort(reason);
  await expect(running).rejects.toBe(reason);
  await pollUntil(
    'the grandchild to exit',
    async () => (isRunning({ name: 'sleep', pid, executable: 'sleep' }) ? undefined : true),
    { timeoutMs: 5_000, intervalMs: 20 },
  );
});

it('a failing command rejects naming it and its exit code', async () => {
  await expect(runBuildStep('sh', ['-c', 'exit 3'], {})).rejects.toThrow('sh -c exit 3 failed (exit 3)');
});
