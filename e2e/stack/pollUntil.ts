/**
 * Retries a check until it yields a value or a deadline passes; every wait in the stack
 * scripts is bounded by one of these.
 *
 *   const trace = await pollUntil('trace in Tempo', () => getTrace(url, id), { timeoutMs: 30_000 });
 *
 * The check returns `undefined` (or throws) for "not yet"; the last error is quoted in the
 * timeout message because it usually says why.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export type PollOptions = {
  timeoutMs: number;
  intervalMs?: number;
  /** Gives up at once, e.g. when the process being waited for has exited. */
  signal?: AbortSignal;
};

export async function pollUntil<T>(
  description: string,
  check: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 250, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no result yet';
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)}s waiting for ${description} (${lastProblem})`);
    }
    await sleep(Math.min(intervalMs, remaining), undefined, { signal });
  }
}
