/**
 * Starts a set of long-running processes in order, each with its log in a file, waits (bounded) until
 * each answers its readiness URL, and stops them in reverse order by PID. The stack (Prometheus, Tempo,
 * collector) and the demo system (worker, API, page) both run on it.
 *
 *   const group = await launchProcesses(specs, { logDir, onRecorded: (ps) => savePids(ps) });
 *   const why = await group.unexpectedExit;   // settles only if a process dies before stop()
 *   await group.restart('tempo', async () => { … });   // runs the callback while tempo is down
 *   await group.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from './pollUntil.ts';
import { processStart, type RecordedProcess, stopProcesses } from './stopProcesses.ts';

export type ProcessSpec = {
  name: string;
  executable: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Answers 2xx once the process is ready to serve. */
  readyUrl: string;
  readyTimeoutMs: number;
  /** How to tell the user that the executable is missing. */
  installHint?: string;
};

export type LoggedProcess = RecordedProcess & { logFile: string };

export type LaunchedProcesses = {
  processes: LoggedProcess[];
  /** Settles with a description (and log tail) if a process dies before stop() is called. */
  unexpectedExit: Promise<string>;
  /** Stops one process, runs `whileStopped`, then starts it again from its spec and waits until it is ready. */
  restart: (name: string, whileStopped?: () => Promise<void>) => Promise<void>;
  stop: () => Promise<void>;
};

export type LaunchOptions = {
  logDir: string;
  /** Leave the processes running when this Node process exits. */
  detached?: boolean;
  /** Called with every PID before the readiness wait, so a start that hangs can still be stopped. */
  onRecorded?: (processes: LoggedProcess[]) => void;
  /** Ends the readiness wait: the processes are stopped and the launch rejects with the signal's reason. */
  signal?: AbortSignal;
};

type Launched = { spec: ProcessSpec; child: ChildProcess; record: LoggedProcess; exited: Promise<string> };

export async function launchProcesses(specs: ProcessSpec[], options: LaunchOptions): Promise<LaunchedProcesses> {
  options.signal?.throwIfAborted();
  const launched: Launched[] = [];
  try {
    for (const spec of specs) launched.push(launch(spec, options.logDir));
  } catch (error) {
    // A launch that throws (its log file cannot be opened, its arguments refused) must not leave the processes
    // started before it running, recorded nowhere. Its error comes first, whatever stopping them says.
    const stopped = await stopInReverseOrder(launched.map(({ record }) => record)).then(
      () => undefined,
      (stopError: unknown) => stopError,
    );
    if (stopped === undefined) throw error;
    throw new AggregateError([error, stopped], `${(error as Error).message}; and then: ${(stopped as Error).message}`);
  }
  const processes = launched.map(({ record }) => record);
  let stopping = false;
  /** Processes stopped on purpose by restart(); their exit is expected. */
  const retired = new Set<Launched>();
  let reportExit: (problem: string) => void = () => {};
  const unexpectedExit = new Promise<string>((resolvePromise) => {
    reportExit = resolvePromise;
  });
  const watch = (entry: Launched) => {
    void entry.exited.then((reason) => {
      if (!stopping && !retired.has(entry)) reportExit(`${entry.record.name} ${reason}\n${logTail(entry.record)}`);
    });
  };
  const stop = async () => {
    stopping = true;
    await stopInReverseOrder(processes);
  };
  const restart = async (name: string, whileStopped = async () => {}) => {
    const index = launched.findIndex(({ record }) => record.name === name);
    const old = launched[index];
    if (!old) throw new Error(`no process named ${name}`);
    retired.add(old);
    await stopProcesses([old.record]);
    await whileStopped();
    const fresh = launch(old.spec, options.logDir);
    launched[index] = fresh;
    processes[index] = fresh.record;
    options.onRecorded?.(processes);
    watch(fresh);
    await waitUntilReady(fresh);
    if (options.detached) fresh.child.unref();
  };
  try {
    options.onRecorded?.(processes);
    await Promise.all(launched.map((entry) => waitUntilReady(entry, options.signal)));
  } catch (error) {
    await stop();
    throw error;
  }
  if (options.detached) for (const { child } of launched) child.unref();
  for (const entry of launched) watch(entry);
  return { processes, unexpectedExit, restart, stop };
}

/**
 * Last started, first stopped: each process flushes to the ones started before it on the way out
 * (the collector to Tempo, Tempo to Prometheus; the API and worker to the collector).
 */
export async function stopInReverseOrder(processes: RecordedProcess[]): Promise<void> {
  const failures: unknown[] = [];
  // One that cannot be stopped must not leave the rest running.
  for (const recorded of [...processes].reverse())
    await stopProcesses([recorded]).catch((error) => failures.push(error));
  if (failures.length) {
    // The message is all that command-line tools print: it names each process and why.
    const reasons = failures.map((error) => (error instanceof Error ? error.message : String(error)));
    throw new AggregateError(failures, `${failures.length} processes could not be stopped: ${reasons.join('; ')}`);
  }
}

function logTail({ logFile }: { logFile: string }, lines = 30): string {
  const text = existsSync(logFile)
    ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
    : '(no log)';
  return `--- last lines of ${logFile} ---\n${text}`;
}

function launch(spec: ProcessSpec, logDir: string): Launched {
  const logFile = join(logDir, `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // Own process group: a Ctrl-C in the terminal reaches only Node, which then stops the
    // processes in order instead of racing them.
    child = spawn(spec.executable, spec.args, {
      cwd: spec.cwd ?? logDir,
      env: spec.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolvePromise) => {
    child.once('error', (error) =>
      resolvePromise(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? `could not start: ${spec.executable} not found${spec.installHint ? ` (${spec.installHint})` : ''}`
          : `could not start: ${error.message}`,
      ),
    );
    child.once('exit', (code, signal) => resolvePromise(`exited with ${signal ?? `code ${code}`}`));
  });
  // A failed spawn has no PID; 0 is never signalled (stopProcesses skips processes that are not running).
  const pid = child.pid ?? 0;
  const record = { name: spec.name, pid, executable: spec.executable, started: processStart(pid), logFile };
  return { spec, child, record, exited };
}

async function waitUntilReady({ spec, record, exited }: Launched, stopped?: AbortSignal): Promise<void> {
  const gaveUp = new AbortController();
  let exitReason: string | undefined;
  void exited.then((reason) => {
    exitReason = reason;
    gaveUp.abort(new Error(reason));
  });
  try {
    await pollUntil(
      `${spec.name} at ${spec.readyUrl}`,
      async () => {
        const response = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return true;
      },
      {
        timeoutMs: spec.readyTimeoutMs,
        intervalMs: 200,
        signal: stopped ? AbortSignal.any([gaveUp.signal, stopped]) : gaveUp.signal,
      },
    );
  } catch (error) {
    // Stopped on purpose, not a process that failed to come up.
    stopped?.throwIfAborted();
    const reason = exitReason ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`${spec.name} did not become ready: ${reason}\n${logTail(record)}`);
  }
}
