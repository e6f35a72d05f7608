/**
 * Runs a build step only when one of its inputs changed since its output was written, so `npm start` builds
 * on a fresh clone and starts in seconds afterwards.
 *
 *   await buildIfStale({ name: 'the agent', inputs: ['packages/browser/src'], outputs: ['packages/browser/dist/x.js'],
 *                        command: ['packages/browser/scripts/build.ts'] }, log, abortController.signal);
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoPaths } from '../e2e/stack/repoPaths.ts';

const repoRoot = repoPaths.root;

export type BuildStep = {
  name: string;
  /** Files and directories (searched recursively, without node_modules and dist), relative to the repository. */
  inputs: string[];
  /**
   * Every file the step writes that a run needs, whatever their order: a build stopped halfway leaves some
   * fresh and others old or missing, and is run again.
   */
  outputs: string[];
  /** Node arguments, a script and its arguments, run in `cwd`. */
  command: string[];
  cwd?: string;
};

/** `signal` ends the build's process, for a Ctrl-C that comes while it runs. */
export async function buildIfStale(step: BuildStep, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const builtAt = oldestOutput(step.outputs);
  if (builtAt !== undefined && newestInput(step.inputs) <= builtAt) return;
  const started = performance.now();
  log(`building ${step.name}…`);
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--conditions=rumkit-source', ...step.command], {
      cwd: join(repoRoot, step.cwd ?? '.'),
      stdio: ['ignore', 'ignore', 'inherit'],
      signal,
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`building ${step.name} failed (exit ${code})`)),
    );
  });
  log(`built ${step.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function newestInput(inputs: string[]): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    if (!stat.isDirectory()) {
      newest = Math.max(newest, stat.mtimeMs);
      return;
    }
    for (const entry of readdirSync(path)) {
      if (entry !== 'node_modules' && entry !== 'dist') visit(join(path, entry));
    }
  };
  for (const input of inputs) visit(join(repoRoot, input));
  return newest;
}

/** When the oldest output was written; undefined if one is missing. */
function oldestOutput(outputs: string[]): number | undefined {
  let oldest = Number.POSITIVE_INFINITY;
  for (const output of outputs) {
    const modified = statSync(join(repoRoot, output), { throwIfNoEntry: false })?.mtimeMs;
    if (modified === undefined) return undefined;
    oldest = Math.min(oldest, modified);
  }
  return oldest;
}
