/**
 * Stops processes recorded by PID, possibly by another Node process than the one that
 * started them: SIGTERM, a bounded wait, then SIGKILL. It returns only once every process
 * is gone, so the next stack can bind the same ports (Tempo takes about 8 s to shut down).
 *
 *   await stopProcesses([{ name: 'tempo', pid: 1234, executable: '/path/to/tempo' }]);
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export type RecordedProcess = {
  name: string;
  pid: number;
  /** argv[0] as spawned; guards against signalling an unrelated process that reused the PID. */
  executable: string;
  /** When the process began (see processStart): tells it from a later one with its PID and executable. */
  started?: string;
};

/**
 * The grace period fits Tempo, the slowest: its metrics-generator sleeps 5 s on shutdown so
 * the ring can settle (it exits after about 5.2 s), and its query-frontend then blocks
 * forever if it served a query in the last 30 s (its queue cleanup no longer runs once
 * stopping), so it is killed after 8 s.
 */
export async function stopProcesses(processes: RecordedProcess[], graceMs = 8_000): Promise<void> {
  const running = processes.filter(isRunning);
  for (const { pid } of running) signal(pid, 'SIGTERM');
  let remaining = await waitForExit(running, graceMs);
  if (remaining.length === 0) return;
  for (const { pid } of remaining) signal(pid, 'SIGKILL');
  remaining = await waitForExit(remaining, 5_000);
  if (remaining.length > 0) {
    throw new Error(
      `still running after SIGKILL: ${remaining.map(({ name, pid }) => `${name} (pid ${pid})`).join(', ')}`,
    );
  }
}

export function isRunning({ pid, executable, started }: RecordedProcess): boolean {
  // kill(0) or kill(-n) would signal whole process groups, ours included.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const proc = readProc(pid);
  if (!proc) return true;
  // A zombie has exited; it only waits for its parent to collect the status.
  return proc.state !== 'Z' && proc.argv0 === executable && (started === undefined || proc.started === started);
}

/**
 * This Node process as a record, for a run that owns processes: a later run that finds the record tells by
 * isRunning whether the owner is alive (leave its processes alone) or died without stopping them.
 */
export function thisProcess(): RecordedProcess {
  // process.argv0 is what /proc shows as this process's argv[0], which isRunning compares.
  return { name: 'owner', pid: process.pid, executable: process.argv0, started: processStart(process.pid) };
}

/**
 * The boot and the clock tick a process began in, from /proc (undefined where there is none). Records written
 * to disk outlive reboots, after which their PIDs name other processes, possibly also `node`.
 */
export function processStart(pid: number): string | undefined {
  return readProc(pid)?.started;
}

function readProc(pid: number): { state: string; argv0: string; started: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [argv0 = ''] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const boot = bootId();
    // The command name in field 2 may contain spaces and parentheses; fields 3 on (state, …, 22: start time)
    // follow its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', argv0, started: `${boot}/${fields[19]}` };
  } catch {
    return undefined;
  }
}

async function waitForExit(processes: RecordedProcess[], timeoutMs: number): Promise<RecordedProcess[]> {
  const deadline = Date.now() + timeoutMs;
  let remaining = processes.filter(isRunning);
  while (remaining.length > 0 && Date.now() < deadline) {
    await sleep(100);
    remaining = remaining.filter(isRunning);
  }
  return remaining;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

let boot: string | undefined;

/**
 * This boot's id, read once (waits for exit ask about processes every 100 ms); empty where the kernel does not
 * say, which leaves the start tick alone to tell processes apart.
 */
function bootId(): string {
  if (boot === undefined) {
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      boot = '';
    }
  }
  return boot;
}
