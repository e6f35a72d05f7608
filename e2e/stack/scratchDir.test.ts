import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { inScratchDir, removeStaleScratchDirs } from './scratchDir.ts';

let dirs: string[] = [];
const binDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'rumkit-bin-test-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

it('removes scratch dirs left for over an hour, not younger ones nor the binaries', () => {
  const dir = binDir();
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  for (const name of ['.build-tempo-old', '.build-otelcol-new']) mkdirSync(join(dir, name));
  writeFileSync(join(dir, 'tempo-0123456789ab'), '');
  utimesSync(join(dir, '.build-tempo-old'), twoHoursAgo, twoHoursAgo);
  utimesSync(join(dir, 'tempo-0123456789ab'), twoHoursAgo, twoHoursAgo);
  removeStaleScratchDirs(dir);
  expect(readdirSync(dir).sort()).toEqual(['.build-otelcol-new', 'tempo-0123456789ab']);
});

it('keeps an old scratch dir that a running build still writes below', () => {
  const dir = binDir();
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  const scratch = join(dir, '.build-tempo-long');
  mkdirSync(join(scratch, 'gotmp'), { recursive: true });
  utimesSync(scratch, twoHoursAgo, twoHoursAgo);
  removeStaleScratchDirs(dir);
  expect(readdirSync(dir)).toEqual(['.build-tempo-long']);
});

it('removes its scratch dir when the work fails', async () => {
  const dir = binDir();
  let scratch = '';
  await expect(
    inScratchDir(dir, 'tempo', async (path) => {
      scratch = path;
      writeFileSync(join(path, 'go.mod'), '');
      throw new Error('go build failed');
    }),
  ).rejects.toThrow('go build failed');
  expect(scratch).toContain('.build-tempo-');
  expect(existsSync(scratch)).toBe(false);
});
