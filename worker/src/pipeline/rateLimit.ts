/**
 * Rate limit: token buckets per client address (taken before the key is judged, so floods of wrong keys count) and
 * per ingest key.
 *
 *     const limiter = createRateLimiter({ ratePerSecond: 20, burst: 60 }, 50_000);
 *     const wait = limiter.take(addressBucket(clientIp), Date.now());   // 0 when allowed, else seconds to wait
 *     limiter.take(id, Date.now(), 3);                                   // a request that costs three tokens
 *
 * A request costing more than the burst is let through from a bucket full before it, which it leaves in debt: the largest
 * request the limits allow stays possible, and pays for itself in the time the bucket takes to refill.
 *
 * Buckets live in a bounded LRU. When it is full, the least recently used bucket is handed to the newcomer as
 * its last owner left it, without refilling for the time it sat unused: an attacker cycling through more
 * addresses than the LRU holds (the 65,536 /64s of one IPv6 /48) gets the buckets it drained itself, while in
 * ordinary traffic an evicted bucket belonged to a visitor who sent a few batches and left it nearly full.
 */
import { ipv6Groups, plainAddress } from '../ipAddress.ts';

export interface BucketConfig {
  ratePerSecond: number;
  burst: number;
}

export interface RateLimiter {
  /**
   * Takes `cost` tokens; returns 0 when they were there, else the seconds until they will be (for Retry-After).
   * `taken` is what the same request took from this bucket already (its admission's token): a request dearer than
   * the burst passes from a bucket that was full before it, and the wait it is told counts the admission its retry
   * pays again.
   */
  take(id: string, nowMs: number, cost?: number, taken?: number): number;
  /** Gives back tokens a request took before another limit refused it. */
  refund(id: string, cost: number): void;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createRateLimiter({ ratePerSecond, burst }: BucketConfig, maxBuckets: number): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    take(id, nowMs, cost = 1, taken = 0) {
      let bucket = buckets.get(id);
      if (bucket) buckets.delete(id);
      else if (buckets.size >= maxBuckets) {
        const [oldestId, oldest] = buckets.entries().next().value as [string, Bucket];
        buckets.delete(oldestId);
        bucket = oldest;
        bucket.updatedMs = nowMs;
      } else bucket = { tokens: burst, updatedMs: nowMs };
      // Map iteration follows insertion order, so re-inserting keeps the least recently used first.
      buckets.set(id, bucket);
      bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * ratePerSecond);
      bucket.updatedMs = nowMs;
      if (bucket.tokens >= Math.min(cost, burst - taken)) {
        bucket.tokens -= cost;
        return 0;
      }
      const wait = (Math.min(cost + taken, burst) - bucket.tokens) / ratePerSecond;
      return ratePerSecond > 0 ? Math.max(1, Math.ceil(wait)) : 60;
    },
    refund(id, cost) {
      const bucket = buckets.get(id);
      if (bucket) bucket.tokens = Math.min(burst, bucket.tokens + cost);
    },
  };
}

/**
 * The bucket id of a client address. An IPv6 client is given a whole /64 (one host's share under RFC 6177),
 * so cycling through its own 2^64 addresses gets it nothing; an IPv4-mapped IPv6 address is its IPv4 one.
 */
export function addressBucket(ip: string): string {
  const address = plainAddress(ip);
  const groups = ipv6Groups(address);
  return groups
    ? `${groups
        .slice(0, 4)
        .map((g) => g.replace(/^0+(?=.)/, ''))
        .join(':')}::/64`
    : address;
}
