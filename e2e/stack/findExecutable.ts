/**
 * Where a command would run from: a path as given, else the first executable of that name on PATH; undefined
 * if there is none. Lets a start fail at once on a missing tool rather than after minutes of building.
 *
 *   findExecutable('prometheus');   // '/usr/bin/prometheus', or undefined
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export function findExecutable(command: string, path = process.env.PATH ?? ''): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? resolve(command) : undefined;
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .find(isExecutable);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
