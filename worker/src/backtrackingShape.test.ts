import { describe, expect, it } from 'vitest';
import { backtrackingShape } from './backtrackingShape.ts';

/** Each of these took from 0.6 s to over 15 s on 25–300 characters of almost-matching text in V8. */
describe('backtrackingShape', () => {
  it('finds an unsettled repeat inside a group taken more than once, at any depth and whatever the count', () => {
    for (const pattern of [
      '(\\w+\\s?)+$',
      '(?:a*)*b',
      '(?:(a+))+b',
      'x(?:y(?:[)]z+)?){2,}',
      '(\\w+\\s?){1,100}$',
      // A small or fixed count of turns is polynomial, and attributes run to 4096 characters.
      '(\\w+\\s?){1,10}$',
      '(?:\\d+[ -]?){4}x',
      '(?:\\w+\\s?){3}!',
    ]) {
      expect(backtrackingShape(pattern), pattern).toBe('nested repeats');
    }
  });

  it('finds repeated groups whose turns can match the same text in more than one way', () => {
    for (const pattern of [
      '(a|aa)+',
      '(?:a|a)*$',
      '(?:\\w|\\d)+!',
      '(?:x|[a-z])+',
      '(?:[x-y]|[y-z]){2,}',
      '(?:é|[éa])+',
      '(?:-|\\W)+',
      '(?:\\t|\\s)+',
      '(?:ab|a\\w)+',
      '(?:abc|ab)+',
      // One alternative of varying length: "111" is one turn or three.
      '(\\d{1,3},?)+$',
      '\\$(\\d{1,3},?)+\\.\\d\\d',
      '(?:\\d\\d?)+$',
      '(?:a?a)+$',
      '(\\d{1,3}[., ]?)+\\b',
      '(?:b?a|a)+',
      '(?:(a|ab)b?)+',
      // Characters beyond ASCII, named by escapes.
      '(?:[\\u0400-\\u04ff]|[\\u0410-\\u044f])+$',
      '(?:\\W|[\\u0400-\\u04ff])+$',
      // What is not read counts as overlapping: a dot, a case-insensitive group, a word boundary.
      '(?:.|a)+',
      '(?i:(?:x|X)+)$',
      '(?:\\bx|x)+$',
    ]) {
      expect(backtrackingShape(pattern), pattern).toBe('overlapping alternatives');
    }
  });

  it('lets through settled repeats, turns that start apart, bounded repeats and what only looks like a group', () => {
    for (const pattern of [
      '(?:\\d+\\.){3}\\d+',
      '(?:\\d+-){2,5}\\d',
      '[\\w.+-]+@(?:[\\w-]+\\.)+[a-z]{2,}',
      '(?:a[+*])+',
      '(?:a\\+)+',
      '(\\d+)\\+x',
      '\\bORD-\\d{6}\\b',
      '(?:-|\\d)+',
      '(?:-?\\d)+',
      '(?:\\s?\\w)+',
      '(?:foo|bar|baz)+',
      '(?:a\\d|ab)+',
      '(?:\\d\\d|x)+',
      '(?:\\d{2}|x)+',
      '(?:[A-Z]{2}\\d|\\d)+',
      '(?:\\x41|b)+',
      '(?:(?:Mr|Mrs)\\. \\w)+',
      '(?:\\s|\\w)+',
      '(?:[a-f]|[0-9]|\\.)+',
      '(?:a|b)(?:a|ab)',
      '(?:a|aa){2,5}',
      '[(a|aa)]+',
      '\\(a|aa\\)+',
      'x(?:https?|ftp)://',
      // A case-insensitive group without repeats holds none to nest.
      '(?:x(?i:abc))+',
      `\\b(?:${Array.from({ length: 1000 }, (_, i) => `ORD-2024-${String(i).padStart(6, '0')}`).join('|')})\\b`,
    ]) {
      expect(backtrackingShape(pattern), pattern).toBeUndefined();
    }
  });

  it('refuses groups nested too deep to read rather than recursing through them', () => {
    expect(backtrackingShape(`${'('.repeat(20_000)}a${')'.repeat(20_000)}`)).toBe('too deep');
  });
});
