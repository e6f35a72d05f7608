/**
 * Scratch directories for the Go builds, beside the binary cache so that moving a finished binary into the
 * cache is one atomic rename.
 *
 *   removeStaleScratchDirs(binDir);                               // before building
 *   await inScratchDir(binDir, 'tempo', async (dir) => { … });   // removed afterwards, failed or not
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = '.build-';
/** Far above a cold build (minutes): a directory this old belongs to no build still running. */
const STALE_AFTER_MS = 60 * 60 * 1000;

export async function inScratchDir(binDir: string, name: string, work: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(binDir, `${PREFIX}${name}-`));
  try {
    await work(dir);
  } finally {
    // The processes of an aborted build may still be writing in it for a moment after their SIGTERM.
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** Removes what builds killed outright (SIGKILL, a power cut) left, which they could not remove themselves. */
export function removeStaleScratchDirs(binDir: string, now = Date.now()): void {
  for (const entry of readdirSync(binDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(PREFIX)) continue;
    const dir = join(binDir, entry.name);
    // A build still running writes below the directory (its `gotmp/`, `dist/`), which leaves the top one's time
    // alone: the newest of it and its entries says when it was last used. Another build may remove its own
    // directory meanwhile.
    const modified = lastUsed(dir);
    if (modified !== undefined && now - modified > STALE_AFTER_MS) rmSync(dir, { recursive: true, force: true });
  }
}

function lastUsed(dir: string): number | undefined {
  try {
    const entries = readdirSync(dir).map((name) => statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0);
    return Math.max(statSync(dir).mtimeMs, ...entries);
  } catch {
    return undefined;
  }
}
