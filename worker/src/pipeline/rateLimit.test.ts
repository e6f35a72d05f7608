import { describe, expect, it } from 'vitest';
import { addressBucket, createRateLimiter } from './rateLimit.ts';

describe('createRateLimiter', () => {
  it('allows a burst, then one request per refilled token, and says how long to wait', () => {
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 3 }, 10);
    expect([0, 0, 0].map(() => limiter.take('a', 0))).toEqual([0, 0, 0]);
    expect(limiter.take('a', 0)).toBe(1);
    expect(limiter.take('a', 500)).toBe(0); // one token back after half a second at 2/s
    expect(limiter.take('a', 500)).toBeGreaterThan(0);
  });

  it('takes as many tokens as a request costs, and lets a request dearer than the burst leave a full bucket in debt', () => {
    const limiter = createRateLimiter({ ratePerSecond: 2, burst: 4 }, 10);
    expect(limiter.take('a', 0, 3)).toBe(0);
    expect(limiter.take('a', 0, 3)).toBe(1); // one token left: two more take a second
    expect(limiter.take('a', 1_000, 3)).toBe(0);
    expect(limiter.take('b', 0, 10)).toBe(0); // full: in debt by 6
    expect(limiter.take('b', 0)).toBe(4); // 7 tokens to come back before the next one
    expect(limiter.take('b', 3_000, 10)).toBe(2); // back to 0: a dear request waits for a full bucket
    expect(limiter.take('b', 5_000, 10)).toBe(0);
  });

  it('counts what the request took already: one dearer than the burst passes from a bucket full before it', () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 4 }, 10);
    expect(limiter.take('a', 0)).toBe(0); // the admission's token
    expect(limiter.take('a', 0, 9, 1)).toBe(0); // 3 left of the 4 it found: enough for a dear request
    expect(limiter.take('a', 0)).toBe(7); // in debt by 6: 7 s to the next token
    expect(limiter.take('a', 7_000)).toBe(0); // back to 1 token
    // Refused with the bucket not full before it: the wait is until it is, the retry's admission counted.
    expect(limiter.take('a', 7_000, 9, 1)).toBe(4);
    limiter.refund('a', 2);
    expect(limiter.take('a', 7_000, 9, 1)).toBeGreaterThan(0);
    limiter.refund('a', 1);
    expect(limiter.take('a', 7_000, 9, 1)).toBe(0);
  });

  it('keeps separate buckets per id', () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1 }, 10);
    expect(limiter.take('a', 0)).toBe(0);
    expect(limiter.take('b', 0)).toBe(0);
    expect(limiter.take('a', 0)).toBeGreaterThan(0);
  });

  it('gives an attacker cycling through addresses recycled empty buckets, not fresh ones', () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 5 }, 100);
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) if (limiter.take(`10.0.${i >> 8}.${i & 255}`, 0) === 0) allowed++;
    // With fresh buckets for each new address all 10,000 would pass; recycled ones pass only the first
    // 100 buckets' bursts.
    expect(allowed).toBe(500);
  });

  it('does not refill a recycled bucket for the time it sat unused: cycling slowly through addresses gains nothing', () => {
    // One /48 has 65,536 /64s: more than the LRU holds. At 50 requests a second each of 100 buckets sits unused
    // for 2 s between owners, time enough to refill completely if that counted.
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 5 }, 100);
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) {
      if (limiter.take(addressBucket(`2001:db8:1:${i.toString(16)}::1`), i * 20) === 0) allowed++;
    }
    // The 100 buckets' bursts, once.
    expect(allowed).toBe(500);
  });

  it('lets an owner that keeps its bucket refill it as time passes', () => {
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 2 }, 1);
    limiter.take('a', 0);
    limiter.take('a', 0);
    expect(limiter.take('a', 0)).toBeGreaterThan(0);
    expect(limiter.take('a', 2_000)).toBe(0);
  });
});

describe('addressBucket', () => {
  it('gives an IPv6 client its /64, however the address is written', () => {
    const bucket = addressBucket('2001:db8:85a3:12::8a2e:370:7334');
    expect(bucket).toBe('2001:db8:85a3:12::/64');
    expect(addressBucket('2001:0db8:85a3:0012:ffff:ffff:ffff:ffff')).toBe(bucket);
    expect(addressBucket('2001:DB8:85A3:12::1%eth0')).toBe(bucket);
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('2001:db8:85a3:13::1')).not.toBe(bucket);
  });

  it('keeps IPv4 addresses, also when mapped into IPv6', () => {
    expect(addressBucket('198.51.100.7')).toBe('198.51.100.7');
    expect(addressBucket('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });
});
