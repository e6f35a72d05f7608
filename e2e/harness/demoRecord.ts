/**
 * The demo's processes on disk, per port base, so that what a run could not stop itself (killed with SIGKILL,
 * or its terminal crashed) does not hold the ports of the next one: the next run on that base stops those
 * processes first, by PID — unless the run that started them is still alive, which it leaves alone.
 *
 *   await stopLeftovers(base, log);             // throws if another live run owns the base
 *   const record = recordDemo(base);
 *   record.save(processes);   …   record.forget();
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rumkitCacheDir } from '../stack/cacheDir.ts';
import { stopInReverseOrder } from '../stack/launchProcesses.ts';
import { isRunning, type RecordedProcess, thisProcess } from '../stack/stopProcesses.ts';

type DemoRecord = { owner: RecordedProcess; processes: RecordedProcess[] };

export async function stopLeftovers(base: number, log: (line: string) => void): Promise<void> {
  const file = recordFile(base);
  const record = read(file);
  if (!record) return;
  if (isRunning(record.owner)) {
    throw new Error(
      `the demo on port base ${base} is already running (process ${record.owner.pid}); stop it with Ctrl-C in its terminal, or choose another RUMKIT_PORT_BASE`,
    );
  }
  const left = record.processes.filter(isRunning);
  if (left.length) {
    log(
      `stopping what an earlier run left on port base ${base}: ${left.map(({ name, pid }) => `${name} (${pid})`).join(', ')}`,
    );
    await stopInReverseOrder(left);
  }
  rmSync(file, { force: true });
}

export function recordDemo(base: number): { save(processes: RecordedProcess[]): void; forget(): void } {
  const file = recordFile(base);
  const owner = thisProcess();
  return {
    save: (processes) => {
      const record: DemoRecord = {
        owner,
        processes: processes.map(({ name, pid, executable, started }) => ({ name, pid, executable, started })),
      };
      writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    },
    forget: () => {
      if (read(file)?.owner.pid === owner.pid) rmSync(file, { force: true });
    },
  };
}

/** Where the demo on port base `base` records its processes. */
export function recordFile(base: number): string {
  const dir = rumkitCacheDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, `demo-${base}.json`);
}

function read(file: string): DemoRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoRecord;
  } catch {
    return undefined;
  }
}
