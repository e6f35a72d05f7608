import { describe, expect, it } from 'vitest';
import {
  encodeThreshold,
  isTraceSampled,
  rateForThreshold,
  thresholdForRate,
  thresholdFromTraceState,
  traceRandomness,
  withThreshold,
} from './sampling.ts';

const traceWithRandomness = (r: string) => `0123456789abcdef01${r}`;

describe('thresholdForRate', () => {
  it('matches the specification examples', () => {
    expect(encodeThreshold(thresholdForRate(1))).toBe('0');
    expect(encodeThreshold(thresholdForRate(0.5))).toBe('8');
    expect(encodeThreshold(thresholdForRate(0.25))).toBe('c');
    expect(encodeThreshold(thresholdForRate(0.1))).toBe('e6666666666666');
    expect(thresholdForRate(1 / 3)).toBe('aaaaaaaaaaaaac');
  });

  it('never samples at rate 0 and always at rate 1', () => {
    expect(isTraceSampled(traceWithRandomness('ffffffffffffff'), thresholdForRate(0))).toBe(false);
    expect(isTraceSampled(traceWithRandomness('00000000000000'), thresholdForRate(1))).toBe(true);
  });

  it('keeps one value in 2^56 at rates too small to keep any, not nearly everything', () => {
    expect(thresholdForRate(1e-18)).toBe('ffffffffffffff');
    expect(isTraceSampled('0af7651916cd43dd8448eb211c80319c', thresholdForRate(1e-18))).toBe(false);
  });

  it('round-trips rates', () => {
    for (const rate of [0.001, 0.1, 0.25, 0.5, 0.9, 1]) {
      expect(rateForThreshold(thresholdForRate(rate))).toBeCloseTo(rate, 12);
    }
  });
});

describe('isTraceSampled', () => {
  it('keeps a trace exactly when its randomness is at or above the threshold', () => {
    const th = thresholdForRate(0.25);
    expect(isTraceSampled(traceWithRandomness('c0000000000000'), th)).toBe(true);
    expect(isTraceSampled(traceWithRandomness('bfffffffffffff'), th)).toBe(false);
    expect(isTraceSampled(traceWithRandomness('FFFFFFFFFFFFFF'), th)).toBe(true);
  });

  it('keeps about the configured share of random trace ids', () => {
    const th = thresholdForRate(0.2);
    let kept = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const id = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
      if (isTraceSampled(id, th)) kept++;
    }
    expect(kept / n).toBeGreaterThan(0.18);
    expect(kept / n).toBeLessThan(0.22);
  });

  it('uses explicit randomness from ot=rv when present', () => {
    const id = traceWithRandomness('00000000000000');
    expect(traceRandomness(id, 'ot=rv:ffffffffffffff')).toBe('ffffffffffffff');
    expect(isTraceSampled(id, thresholdForRate(0.5), 'ot=rv:ffffffffffffff')).toBe(true);
    expect(isTraceSampled(id, thresholdForRate(0.5))).toBe(false);
  });
});

describe('tracestate', () => {
  it('writes th into a fresh tracestate', () => {
    expect(withThreshold(undefined, thresholdForRate(0.25))).toBe('ot=th:c');
  });

  it('replaces th, keeps other ot sub-keys and vendors, and moves ot to the front', () => {
    const ts = 'vendor=abc,ot=rv:0123456789abcd;th:8,other=1';
    expect(withThreshold(ts, thresholdForRate(0.25))).toBe('ot=th:c;rv:0123456789abcd,vendor=abc,other=1');
  });

  it('stays within W3C Trace Context’s 32 entries and 512 characters, dropping the right-most entries', () => {
    const full = Array.from({ length: 32 }, (_, i) => `v${i}=x`).join(',');
    const written = withThreshold(full, thresholdForRate(0.25)).split(',');
    expect(written).toHaveLength(32);
    expect(written[0]).toBe('ot=th:c');
    expect(written.at(-1)).toBe('v30=x');
    const long = Array.from({ length: 4 }, (_, i) => `v${i}=${'y'.repeat(123)}`).join(',');
    expect(long.length).toBeLessThanOrEqual(512);
    const shortened = withThreshold(long, thresholdForRate(0.25));
    expect(shortened.length).toBeLessThanOrEqual(512);
    expect(shortened.split(',').map((m) => m.split('=')[0])).toEqual(['ot', 'v0', 'v1', 'v2']);
  });

  it('drops th for a never-sample threshold', () => {
    expect(withThreshold('ot=th:8,a=b', thresholdForRate(0))).toBe('a=b');
  });

  it('reads th back', () => {
    expect(thresholdFromTraceState('a=b, ot=th:c;rv:00000000000001')).toBe('c0000000000000');
    expect(thresholdFromTraceState('ot=th:zz')).toBeUndefined();
    expect(thresholdFromTraceState(undefined)).toBeUndefined();
  });
});
