import { type ExportTraceServiceRequest, isTraceSampled, type Span, thresholdForRate } from '@rumkit/otlp';
import { describe, expect, it } from 'vitest';
import { sample } from './sample.ts';

function traceId(i: number): string {
  // Spread the low 56 bits (the randomness) evenly over the test's traces.
  const random = Math.floor(((i * 0.6180339887) % 1) * 2 ** 52) * 16;
  return `${'0'.repeat(18)}${random.toString(16).padStart(14, '0')}`;
}

function batchOf(spans: Partial<Span>[]): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: spans.map((s, i) => ({
              traceId: traceId(0),
              spanId: (i + 1).toString(16).padStart(16, '0'),
              name: 's',
              kind: 1,
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
              ...s,
            })),
          },
        ],
      },
    ],
  };
}

const spansOf = (b: ExportTraceServiceRequest) =>
  b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

describe('sample', () => {
  it('keeps about the configured share of traces, every span of a trace alike', () => {
    const threshold = thresholdForRate(0.25);
    const spans = Array.from({ length: 4000 }, (_, i) => ({ traceId: traceId(Math.floor(i / 4)) }));
    const batch = batchOf(spans);
    const result = sample(batch, threshold);
    expect(result.kept + result.sampledOut).toBe(4000);
    expect(result.kept / 4000).toBeGreaterThan(0.22);
    expect(result.kept / 4000).toBeLessThan(0.28);
    expect(spansOf(result.request)).toHaveLength(result.kept);
    expect(spansOf(batch)).toHaveLength(4000); // the metrics still read every span
    const keptPerTrace = new Map<string, number>();
    for (const span of spansOf(result.request))
      keptPerTrace.set(span.traceId, (keptPerTrace.get(span.traceId) ?? 0) + 1);
    expect(new Set(keptPerTrace.values())).toEqual(new Set([4]));
  });

  /** Samples 200 traces, one span each carrying `traceState`, at the tenant's `rate`. */
  const sampleTraces = (traceState: string, rate: number, flags?: number) => {
    const ids = Array.from({ length: 200 }, (_, i) => traceId(i));
    const batch = batchOf(ids.map((id) => ({ traceId: id, traceState, flags })));
    const kept = spansOf(sample(batch, thresholdForRate(rate)).request);
    const keptAt = (keptRate: number) => ids.filter((id) => isTraceSampled(id, thresholdForRate(keptRate)));
    return { keptIds: kept.map((s) => s.traceId), keptAt, traceStates: new Set(kept.map((s) => s.traceState)) };
  };

  it('decides as the browser and backend do, from the trace id alone, and writes ot=th', () => {
    const { keptIds, keptAt, traceStates } = sampleTraces('vendor=x', 0.25);
    expect(keptIds).toEqual(keptAt(0.25));
    expect(traceStates).toEqual(new Set(['ot=th:c,vendor=x']));
  });

  it("keeps a sender's stricter threshold, and the spans it kept alone", () => {
    const { keptIds, keptAt, traceStates } = sampleTraces('ot=th:c', 0.5, 0x101);
    expect(keptIds).toEqual(keptAt(0.25));
    expect(keptIds.length).toBeGreaterThan(30);
    expect(traceStates).toEqual(new Set(['ot=th:c']));
  });

  it("raises a sender's lower threshold to the tenant's, so writing ot=th cannot exceed the tenant's rate", () => {
    const { keptIds, keptAt, traceStates } = sampleTraces('ot=th:0;rv=x,vendor=y', 0.25, 0x101);
    expect(keptIds).toEqual(keptAt(0.25));
    expect(traceStates).toEqual(new Set(['ot=th:c;rv=x,vendor=y']));
  });

  it('drops what the sender dropped, and everything at rate 0', () => {
    const batch = batchOf([
      { flags: 0x100 }, // the browser's flags say "not sampled"
      { traceState: 'ot=th:0', flags: 0x101 }, // kept by the browser at 100 %
      { flags: 0x101 }, // sampled by a parent, no threshold: undecided here
    ]);
    expect(sample(batch, thresholdForRate(0))).toMatchObject({ kept: 0, sampledOut: 3 });
    const undecided = batchOf([{ flags: 0x100 }, { flags: 0x101 }, { flags: 0 }]);
    expect(sample(undecided, thresholdForRate(1))).toMatchObject({ kept: 2, sampledOut: 1 });
  });

  it('keeps everything at rate 1 without touching tracestate, and removes emptied scopes', () => {
    const all = batchOf([{}, {}]);
    const kept = sample(all, thresholdForRate(1));
    expect(kept).toMatchObject({ kept: 2, sampledOut: 0 });
    expect(spansOf(kept.request)[0]?.traceState).toBeUndefined();
    expect(sample(batchOf([{}, {}]), thresholdForRate(0)).request.resourceSpans).toEqual([]);
  });
});
