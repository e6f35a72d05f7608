import { afterEach, describe, expect, it, vi } from 'vitest';
import { classifyStatus, MAX_ATTEMPTS, MAX_DELAY_MS, retryAfterMs, retryDelayMs } from './retryPolicy.ts';

describe('classifyStatus', () => {
  it('retries network errors, 429, 502, 503 and 504 only', () => {
    for (const status of [undefined, 429, 502, 503, 504]) expect(classifyStatus(status)).toBe('retry');
    for (const status of [400, 401, 403, 413, 415, 500]) expect(classifyStatus(status)).toBe('drop');
    for (const status of [200, 202, 204]) expect(classifyStatus(status)).toBe('sent');
  });
});

describe('retryDelayMs', () => {
  it('doubles the backoff per attempt, jittered between half and all of it', () => {
    expect(retryDelayMs(1, null, () => 0)).toBe(500);
    expect(retryDelayMs(1, null, () => 1)).toBe(1000);
    expect(retryDelayMs(3, null, () => 1)).toBe(4000);
    expect(retryDelayMs(3, null, () => 0.5)).toBe(3000);
  });

  it('waits at least as long as Retry-After asks', () => {
    expect(retryDelayMs(1, '7', () => 1)).toBe(7000);
    expect(retryDelayMs(1, '0.2', () => 1)).toBe(1000);
  });

  it('gives up on this page after the last attempt or when asked to wait too long', () => {
    expect(retryDelayMs(MAX_ATTEMPTS + 1, null)).toBeUndefined();
    expect(retryDelayMs(1, String(MAX_DELAY_MS / 1000 + 1))).toBeUndefined();
  });
});

describe('retryAfterMs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads seconds and ignores what it cannot read', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(null)).toBe(0);
    expect(retryAfterMs('')).toBe(0);
    expect(retryAfterMs('-5')).toBe(0);
    expect(retryAfterMs('soon')).toBe(0);
  });

  it('reads an HTTP-date as the time until then, a past one as nothing', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-10-21T07:27:53Z') });
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT')).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2026 07:27:00 GMT')).toBe(0);
    expect(retryDelayMs(1, 'Wed, 21 Oct 2026 07:28:00 GMT', () => 1)).toBe(7000);
    expect(retryDelayMs(1, 'Wed, 21 Oct 2026 08:00:00 GMT')).toBeUndefined();
  });
});
