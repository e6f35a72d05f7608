/**
 * Runs one command of a Go build (`go build`, `go install`, ocb) to completion, its output on stderr so a
 * caller's stdout stays machine-readable.
 *
 *   await runBuildStep('go', ['build', '-o', out, pkg], { cwd, signal });
 *
 * With a `signal`, the command runs in a process group of its own, and aborting sends the whole group SIGINT, as
 * a Ctrl-C in a terminal would: ocb and `go` start compilers and `go` processes of their own, which a signal to
 * the command alone would leave running for minutes, and `go` removes its work dir in /tmp on SIGINT only (it
 * dies on SIGTERM without). The abort settles once the group is gone. Without a `signal` the command stays in
 * the caller's group, so a Ctrl-C in the terminal reaches it as it reaches the caller.
 */
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long an interrupted group may take to exit before it is killed. */
const INTERRUPT_GRACE_MS = 10_000;

export type BuildStepOptions = { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal };

export function runBuildStep(command: string, args: string[], options: BuildStepOptions): Promise<void> {
  const { signal, ...spawnOptions } = options;
  signal?.throwIfAborted();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 2, 2], detached: signal !== undefined });
    let killTimer: NodeJS.Timeout | undefined;
    const endGroup = () => {
      if (!child.pid) return;
      signalGroup(child.pid, 'SIGINT');
      // A step that ignores SIGINT must not hold the stop forever: the grace runs from the abort.
      const pgid = child.pid;
      killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), INTERRUPT_GRACE_MS).unref();
    };
    signal?.addEventListener('abort', endGroup, { once: true });
    child.on('spawn', () => {
      // Go builds saturate every core; let the rest of the machine stay responsive.
      try {
        if (child.pid) setPriority(child.pid, 10);
      } catch {
        // Lowering priority is a courtesy, not a requirement.
      }
    });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', endGroup);
      reject(
        new Error(`${command}: ${error.message}${command === 'go' ? ' (Go is needed to build the stack once)' : ''}`),
      );
    });
    child.on('exit', (code, exitSignal) => {
      signal?.removeEventListener('abort', endGroup);
      if (code === 0) {
        clearTimeout(killTimer);
        resolvePromise();
      } else if (signal?.aborted) {
        void groupGone(child.pid ?? 0).then(() => {
          // Gone: its number may go to another group, which the timer must not kill.
          clearTimeout(killTimer);
          reject(signal.reason);
        });
      } else reject(new Error(`${command} ${args.join(' ')} failed (${exitSignal ?? `exit ${code}`})`));
    });
  });
}

/** Waits until no process of the group is left (the command's children may outlive it briefly), bounded. */
async function groupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + INTERRUPT_GRACE_MS;
  while (signalGroup(pgid, 0)) {
    if (Date.now() >= deadline) {
      signalGroup(pgid, 'SIGKILL');
      return;
    }
    await sleep(50);
  }
}

/** False once the group has no process left. */
function signalGroup(pgid: number, name: NodeJS.Signals | 0): boolean {
  // kill(-0) would signal our own group.
  if (pgid <= 0) return false;
  try {
    process.kill(-pgid, name);
    return true;
  } catch {
    return false;
  }
}
