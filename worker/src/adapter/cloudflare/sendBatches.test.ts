import { describe, expect, it } from 'vitest';
import type { UpstreamPayload } from '../../pipeline/forward.ts';
import { sendBatches } from './sendBatches.ts';

const part = (kb: number): UpstreamPayload => ({
  tenant: 'shop',
  spans: 1,
  contentType: 'application/x-protobuf',
  body: new Uint8Array(kb * 1024),
});

describe('sendBatches', () => {
  it('queues a request of one or two full-size parts in one call', () => {
    expect(sendBatches([part(8)]).map((g) => g.length)).toEqual([1]);
    expect(sendBatches([part(120), part(120)]).map((g) => g.length)).toEqual([2]);
  });

  it('starts another call past 256 KB or 100 messages, keeping the parts in order', () => {
    const big = [part(120), part(120), part(120), part(10)];
    const groups = sendBatches(big);
    expect(groups.map((g) => g.length)).toEqual([2, 2]);
    expect(groups.flat()).toEqual(big);
    expect(sendBatches(Array.from({ length: 150 }, () => part(0))).map((g) => g.length)).toEqual([100, 50]);
  });
});
