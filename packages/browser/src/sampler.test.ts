import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { describe, expect, it, vi } from 'vitest';
import { consistentSampler } from './sampler.ts';

// The decision rests on the low 56 bits (the last 14 hex digits) of the trace id.
const HIGH_RANDOMNESS = '0123456789abcdef00fc000000000000';
const LOW_RANDOMNESS = '0123456789abcdef0001000000000000';

const decide = (rate: number, traceId: string, context = ROOT_CONTEXT) =>
  consistentSampler(() => rate).shouldSample(context, traceId, 'span', SpanKind.INTERNAL, {}, []);

describe('consistentSampler', () => {
  it('keeps a root trace whose randomness reaches the threshold, and writes the threshold to tracestate', () => {
    const kept = decide(0.25, HIGH_RANDOMNESS);
    expect(kept.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(kept.traceState?.serialize()).toBe('ot=th:c');
    expect(decide(0.25, LOW_RANDOMNESS).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('keeps everything at rate 1 and nothing at rate 0', () => {
    expect(decide(1, LOW_RANDOMNESS).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(0, HIGH_RANDOMNESS).decision).toBe(SamplingDecision.NOT_RECORD);
  });

  it('applies a new rate to the root spans sampled after it', () => {
    const sampler = consistentSampler(() => 1);
    const rootDecision = () =>
      sampler.shouldSample(ROOT_CONTEXT, LOW_RANDOMNESS, 'span', SpanKind.INTERNAL, {}, []).decision;
    expect(rootDecision()).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    sampler.setRate(0.25);
    expect(rootDecision()).toBe(SamplingDecision.NOT_RECORD);
    expect(
      sampler.shouldSample(ROOT_CONTEXT, HIGH_RANDOMNESS, 'span', SpanKind.INTERNAL, {}, []).traceState?.serialize(),
    ).toBe('ot=th:c');
  });

  it('asks for its starting rate at the first root span, unless a rate was set before', () => {
    const startRate = vi.fn(() => 0.25);
    const sampler = consistentSampler(startRate);
    expect(startRate).not.toHaveBeenCalled();
    const rootDecision = (traceId: string) =>
      sampler.shouldSample(ROOT_CONTEXT, traceId, 'span', SpanKind.INTERNAL, {}, []).decision;
    expect(rootDecision(LOW_RANDOMNESS)).toBe(SamplingDecision.NOT_RECORD);
    expect(rootDecision(HIGH_RANDOMNESS)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(startRate).toHaveBeenCalledOnce();

    const answered = consistentSampler(startRate);
    answered.setRate(1);
    expect(answered.shouldSample(ROOT_CONTEXT, LOW_RANDOMNESS, 'span', SpanKind.INTERNAL, {}, []).decision).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(startRate).toHaveBeenCalledOnce();
  });

  it('follows a parent whatever the rate', () => {
    const parent = (traceFlags: number) =>
      trace.setSpanContext(ROOT_CONTEXT, {
        traceId: LOW_RANDOMNESS,
        spanId: '00f067aa0ba902b7',
        traceFlags,
        isRemote: true,
      });
    expect(decide(0, LOW_RANDOMNESS, parent(1)).decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(1, HIGH_RANDOMNESS, parent(0)).decision).toBe(SamplingDecision.NOT_RECORD);
  });
});
