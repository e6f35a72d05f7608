/**
 * Ctrl-C, `kill` and a closed terminal for the command-line tools that start processes: the first SIGINT,
 * SIGTERM or SIGHUP, or the first call of the returned function, runs `stop` once and exits with the code (130,
 * 143 and 129 for the signals, as shells report them). Signals that arrive while stopping are ignored, so a
 * second Ctrl-C cannot leave children behind.
 *
 *     const stopAndExit = stopOnSignal(async (code) => { await stack?.stop(); });
 *     await stopAndExit(0);
 */
export interface StopAndExit {
  (code: number): Promise<void>;
  /** True once stopping has begun: errors from the work it interrupted are expected then. */
  readonly stopping: boolean;
}

export function stopOnSignal(stop: (code: number) => Promise<void>): StopAndExit {
  let stopping = false;
  const stopAndExit = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await stop(code);
    } catch (error) {
      // Exit anyway: an unhandled rejection here would leave the process, and what `stop` did not reach, running.
      console.error(`stopping failed: ${error instanceof Error ? error.message : error}`);
      code ||= 1;
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAndExit(130));
  process.on('SIGTERM', () => void stopAndExit(143));
  // A closed terminal: the children run in process groups of their own, so the hangup reaches only us.
  process.on('SIGHUP', () => void stopAndExit(129));
  return Object.defineProperty(stopAndExit, 'stopping', { get: () => stopping }) as StopAndExit;
}
