/**
 * Sample: keeps or drops whole traces by trace id with the OpenTelemetry 56-bit threshold rule
 * (`@rumkit/otlp` sampling), so the browser, the edge and the backend keep the same traces.
 *
 *     const { request, kept, sampledOut } = sample(batch, thresholdForRate(tenant.sampleRate));
 *
 * The sender's decision is composed with the tenant's rate the way the specification's "equalizing" samplers
 * do: a span whose flags say "not sampled" was dropped by the browser and stays dropped; a span whose
 * tracestate carries `ot=th` is kept at the stricter of its threshold and the tenant's, so an agent sampling
 * below the tenant's rate keeps its own decision (the backend followed it through `traceparent`), while a
 * sender cannot raise its share above the tenant's rate by writing a low threshold. Kept spans carry the
 * threshold that applied in `ot=th`, so the collector and Tempo can extrapolate counts. RUM metrics are taken
 * from every accepted span, whatever this stage keeps: it leaves the batch's span lists whole and returns the
 * kept spans as a new request, so that the metrics can be counted once the kept spans were delivered.
 */
import {
  type ExportTraceServiceRequest,
  isTraceSampled,
  thresholdForRate,
  thresholdFromTraceState,
  withThreshold,
} from '@rumkit/otlp';

/**
 * W3C trace flag "sampled", and OTLP's bit 8 ("the parent's is-remote state is known"). Senders that set bit 8
 * fill the flags field (current OpenTelemetry SDKs always do), so only then does a clear sampled bit mean "not
 * sampled" rather than "flags not given", as it does for older senders that leave the field 0.
 */
const SAMPLED = 0x1;
const HAS_FLAGS = 0x100;
const ALL = thresholdForRate(1);

export interface SampleResult {
  /**
   * The kept spans, without emptied scopes and resources. Its resources, scopes and spans are the input's
   * objects (a kept span's tracestate is updated in place); only the lists are new.
   */
  request: ExportTraceServiceRequest;
  kept: number;
  sampledOut: number;
}

export function sample(request: ExportTraceServiceRequest, threshold: string): SampleResult {
  let kept = 0;
  let sampledOut = 0;
  // The spans of a batch share a handful of tracestates (the agent writes the same `ot=th` on each, and
  // other senders none): the threshold each one leads to, and the tracestate a kept span leaves with, are
  // worked out once per batch.
  const decisions = new Map<string | undefined, Decision>();
  const resourceSpans: ExportTraceServiceRequest['resourceSpans'] = [];
  for (const rs of request.resourceSpans) {
    const scopeSpans: typeof rs.scopeSpans = [];
    for (const ss of rs.scopeSpans) {
      const spans = ss.spans.filter((span) => {
        const flags = span.flags ?? 0;
        const { traceState } = span;
        const droppedBySender = (flags & HAS_FLAGS) !== 0 && (flags & SAMPLED) === 0;
        let keep = false;
        if (!droppedBySender) {
          const decision = cached(decisions, traceState, (state) => decide(state, threshold));
          keep = decision.keepAll || isTraceSampled(span.traceId, decision.threshold, traceState);
          if (keep) span.traceState = decision.traceState;
        }
        if (keep) kept++;
        else sampledOut++;
        return keep;
      });
      if (spans.length > 0) scopeSpans.push({ ...ss, spans });
    }
    if (scopeSpans.length > 0) resourceSpans.push({ ...rs, scopeSpans });
  }
  return { request: { resourceSpans }, kept, sampledOut };
}

interface Decision {
  threshold: string;
  keepAll: boolean;
  /** The tracestate of a kept span. */
  traceState: string | undefined;
}

function decide(traceState: string | undefined, ours: string): Decision {
  const theirs = thresholdFromTraceState(traceState);
  // Thresholds are 14-digit hex strings, which compare as their numbers do; ours may also be 'never' (rate 0),
  // which sorts above every hex string, as the strictest threshold should.
  if (theirs !== undefined && theirs >= ours) return { threshold: theirs, keepAll: false, traceState };
  // At rate 1 (which no sender's threshold is below) an undecided span's tracestate is left alone.
  const keepAll = ours === ALL;
  return { threshold: ours, keepAll, traceState: keepAll ? traceState : withThreshold(traceState, ours) };
}

function cached<K, V>(cache: Map<K, V>, key: K, compute: (key: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute(key);
    cache.set(key, value);
  }
  return value;
}
