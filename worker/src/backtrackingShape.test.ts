import { describe, expect, it } from 'vitest';
import { backtrackingShape } from './backtrackingShape.ts';

describe('backtrackingShape', () => {
  it('finds a repeat inside a repeated group, at any depth', () => {
    for (const pattern of ['(\\w+\\s?)+$', '(?:a*)*b', '(?:(a+))+b', 'x(?:y(?:[)]z+)?){2,}', '(\\w+\\s?){1,100}$']) {
      expect(backtrackingShape(pattern), pattern).toBe('nested repeats');
    }
  });

  it('finds repeated alternatives that can start with the same character', () => {
    for (const pattern of [
      '(a|aa)+',
      '(?:a|a)*$',
      '(?:\\w|\\d)+!',
      '(?:x|[a-z])+',
      '(?:[x-y]|[y-z]){2,}',
      '(?:é|[éa])+',
      '(?:-|\\W)+',
      '(?:\\t|\\s)+',
      // What is not read where it starts counts as overlapping: a group, a dot, a first item that may be skipped.
      '(?:(?:a)|a)+',
      '(?:.|a)+',
      '(?:b?a|a)+',
      '(?:\\d{2}|1)+',
      // Alike as far as they go: one is a beginning of the other, or they match the same text.
      '(?:ab|a\\w)+',
      '(?:abc|ab)+',
      // Deeper down: the alternatives in a group inside the repeated one.
      '(?:(a|ab)b?)+',
      '((?:a|ab))+',
    ]) {
      expect(backtrackingShape(pattern), pattern).toBe('overlapping alternatives');
    }
  });

  it('lets through alternatives that start apart, bounded repeats and what only looks like a group', () => {
    for (const pattern of [
      '(?:\\d+\\.){3}\\d+',
      '(?:\\d+-){2,5}\\d',
      '(?:a[+*])+',
      '(?:a\\+)+',
      '(\\d+)\\+x',
      '\\bORD-\\d{6}\\b',
      '(?:-|\\d)+',
      '(?:foo|bar|baz)+',
      '(?:a\\d|ab)+',
      '(?:\\d\\d|x)+',
      '(?:\\s|\\w)+',
      '(?:[a-f]|[0-9]|\\.)+',
      '(?:a|b)(?:a|ab)',
      '(?:a|aa){2,5}',
      '[(a|aa)]+',
      '\\(a|aa\\)+',
      'x(?:https?|ftp)://',
    ]) {
      expect(backtrackingShape(pattern), pattern).toBeUndefined();
    }
  });
});
