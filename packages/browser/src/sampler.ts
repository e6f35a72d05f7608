/**
 * Head sampling shared with the edge and the backend: ParentBased, with the OpenTelemetry 56-bit
 * trace-id ratio rule (`@rumkit/otlp` sampling) for root spans. A kept root records its threshold in
 * `tracestate` (`ot=th:…`), so every later participant knows the rate the trace was sampled at.
 *
 *     new TracerProvider({ sampler: consistentSampler(() => 0.25) });
 */
import type { TraceState } from '@opentelemetry/api';
import { ParentBasedSampler, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace';
import { encodeThreshold, isTraceSampled, thresholdForRate } from '@rumkit/otlp';
import { createTraceState } from './traceContext.ts';

export interface ConsistentSampler extends Sampler {
  /** Applies to root spans started from now on. */
  setRate(rate: number): void;
}

export function consistentSampler(startRate: () => number): ConsistentSampler {
  let threshold: string | undefined;
  let traceState: TraceState;
  const setRate = (next: number) => {
    threshold = thresholdForRate(next);
    traceState = createTraceState(`ot=th:${encodeThreshold(threshold)}`);
  };
  const root: Sampler = {
    shouldSample(_context, traceId) {
      // Asked for at the first root span, not while the page starts: the starting rate is read from storage,
      // and the first `localStorage` access of a page is among the slowest calls the agent makes.
      if (threshold === undefined) setRate(startRate());
      return isTraceSampled(traceId, threshold as string)
        ? { decision: SamplingDecision.RECORD_AND_SAMPLED, traceState }
        : { decision: SamplingDecision.NOT_RECORD };
    },
  };
  return Object.assign(new ParentBasedSampler({ root }), { setRate });
}
