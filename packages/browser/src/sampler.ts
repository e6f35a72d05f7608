/**
 * Head sampling shared with the edge and the backend: ParentBased, with the OpenTelemetry 56-bit
 * trace-id ratio rule (`@rumkit/otlp` sampling) for root spans. A kept root records its threshold in
 * `tracestate` (`ot=th:…`), so every later participant knows the rate the trace was sampled at.
 *
 *     new TracerProvider({ sampler: consistentSampler(0.25) });
 */
import type { TraceState } from '@opentelemetry/api';
import { ParentBasedSampler, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace';
import { encodeThreshold, isTraceSampled, thresholdForRate } from '@rumkit/otlp';
import { createTraceState } from './traceContext.ts';

export interface ConsistentSampler extends Sampler {
  /** Applies to root spans started from now on. */
  setRate(rate: number): void;
}

export function consistentSampler(rate: number): ConsistentSampler {
  let threshold: string;
  let traceState: TraceState;
  const setRate = (next: number) => {
    threshold = thresholdForRate(next);
    traceState = createTraceState(`ot=th:${encodeThreshold(threshold)}`);
  };
  setRate(rate);
  const root: Sampler = {
    shouldSample: (_context, traceId) =>
      isTraceSampled(traceId, threshold)
        ? { decision: SamplingDecision.RECORD_AND_SAMPLED, traceState }
        : { decision: SamplingDecision.NOT_RECORD },
  };
  return Object.assign(new ParentBasedSampler({ root }), { setRate });
}
