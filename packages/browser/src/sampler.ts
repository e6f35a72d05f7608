/**
 * Head sampling shared with the edge and the backend: ParentBased, with the OpenTelemetry 56-bit
 * trace-id ratio rule (`@rumkit/otlp` sampling) for root spans. A kept root records its threshold in
 * `tracestate` (`ot=th:…`), so every later participant knows the rate the trace was sampled at.
 *
 *     new TracerProvider({ sampler: consistentSampler(0.25) });
 */
import { ParentBasedSampler, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace';
import { encodeThreshold, isTraceSampled, thresholdForRate } from '@rumkit/otlp';
import { createTraceState } from './traceContext.ts';

export function consistentSampler(rate: number): Sampler {
  const threshold = thresholdForRate(rate);
  // A root span has no tracestate yet, so its `ot` entry is the threshold alone.
  const traceState = createTraceState(`ot=th:${encodeThreshold(threshold)}`);
  const root: Sampler = {
    shouldSample: (_context, traceId) =>
      isTraceSampled(traceId, threshold)
        ? { decision: SamplingDecision.RECORD_AND_SAMPLED, traceState }
        : { decision: SamplingDecision.NOT_RECORD },
  };
  return new ParentBasedSampler({ root });
}
