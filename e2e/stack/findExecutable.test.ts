import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { findExecutable } from './findExecutable.ts';

const dir = mkdtempSync(join(tmpdir(), 'rumkit-path-test-'));
writeFileSync(join(dir, 'prometheus'), '#!/bin/sh\n');
chmodSync(join(dir, 'prometheus'), 0o755);
writeFileSync(join(dir, 'readable-only'), '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('finds a command on PATH', () => {
  expect(findExecutable('prometheus', `/nonexistent:${dir}`)).toBe(join(dir, 'prometheus'));
});

it('finds nothing for a command missing from PATH or not executable', () => {
  expect(findExecutable('prometheus', '/nonexistent')).toBeUndefined();
  expect(findExecutable('readable-only', dir)).toBeUndefined();
});

it('takes a path as given', () => {
  expect(findExecutable(join(dir, 'prometheus'), '')).toBe(join(dir, 'prometheus'));
});
