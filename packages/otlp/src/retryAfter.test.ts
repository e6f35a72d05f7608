import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retryAfter.ts';

describe('parseRetryAfter', () => {
  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
