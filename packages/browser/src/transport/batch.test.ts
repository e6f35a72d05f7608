import { describe, expect, it } from 'vitest';
import { batchBody, cutBatches, type SpanItem } from './batch.ts';

const item = (name: string, bytes: number, scope = '{"name":"s"}'): SpanItem => ({
  scope,
  span: `{"name":"${name}"}`,
  bytes,
});

describe('cutBatches', () => {
  it('starts a new batch at the span limit', () => {
    const batches = cutBatches([item('a', 1), item('b', 1), item('c', 1)], { maxSpans: 2, maxBytes: 100 });
    expect(batches.map((b) => b.map((i) => i.span))).toEqual([['{"name":"a"}', '{"name":"b"}'], ['{"name":"c"}']]);
  });

  it('starts a new batch before the byte limit would be passed', () => {
    const batches = cutBatches([item('a', 40), item('b', 40), item('c', 40)], { maxSpans: 10, maxBytes: 100 });
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
  });

  it('puts an oversized item in a batch of its own, keeping order', () => {
    const batches = cutBatches([item('a', 10), item('big', 500), item('c', 10)], { maxSpans: 10, maxBytes: 100 });
    expect(batches.map((b) => b.map((i) => i.bytes))).toEqual([[10], [500], [10]]);
  });
});

describe('batchBody', () => {
  it('is OTLP/JSON with spans grouped by scope', () => {
    const body = batchBody('{"attributes":[]}', [
      item('a', 1, '{"name":"x"}'),
      item('b', 1, '{"name":"y"}'),
      item('c', 1, '{"name":"x"}'),
    ]);
    expect(JSON.parse(body)).toEqual({
      resourceSpans: [
        {
          resource: { attributes: [] },
          scopeSpans: [
            { scope: { name: 'x' }, spans: [{ name: 'a' }, { name: 'c' }] },
            { scope: { name: 'y' }, spans: [{ name: 'b' }] },
          ],
        },
      ],
    });
  });
});
