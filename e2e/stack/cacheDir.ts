/**
 * Where the stack keeps what outlives one run: built binaries and the state of detached
 * stacks. Outside the repository so that a clean checkout or `git clean` never costs a
 * rebuild of the collector and Tempo.
 *
 *   rumkitCacheDir(); // RUMKIT_CACHE_DIR, else XDG_CACHE_HOME/rumkit, else ~/.cache/rumkit
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function rumkitCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUMKIT_CACHE_DIR) return resolve(env.RUMKIT_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'rumkit');
}
