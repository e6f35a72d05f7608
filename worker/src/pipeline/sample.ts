/**
 * Sample: keeps or drops whole traces by trace id with the OpenTelemetry 56-bit threshold rule
 * (`@rumkit/otlp` sampling), so the browser, the edge and the backend keep the same traces.
 *
 *     const { kept, sampledOut } = sample(batch, thresholdForRate(tenant.sampleRate));
 *
 * A span the browser already decided on is honoured as it is, since the backend followed the same decision
 * through `traceparent`: a span whose tracestate carries `ot=th` was kept by the browser's sampler, and a
 * span whose flags say "not sampled" was dropped by it. Only undecided spans are sampled here; those kept
 * get `ot=th:<threshold>` written into their tracestate, so the collector and Tempo can extrapolate counts.
 * RUM metrics are taken before this stage, from every accepted span.
 */
import { type ExportTraceServiceRequest, isTraceSampled, thresholdFromTraceState, withThreshold } from '@rumkit/otlp';

/**
 * W3C trace flag "sampled", and OTLP's bit 8 ("the parent's is-remote state is known"). Senders that set bit 8
 * fill the flags field (current OpenTelemetry SDKs always do), so only then does a clear sampled bit mean "not
 * sampled" rather than "flags not given", as it does for older senders that leave the field 0.
 */
const SAMPLED = 0x1;
const HAS_FLAGS = 0x100;

export interface SampleResult {
  kept: number;
  sampledOut: number;
}

/** Drops unsampled spans from the batch in place (and empty scopes and resources with them). */
export function sample(request: ExportTraceServiceRequest, threshold: string): SampleResult {
  let kept = 0;
  let sampledOut = 0;
  const keepAll = threshold === '0'.repeat(14);
  // The spans of a batch share a handful of tracestates (the agent writes the same `ot=th` on each, and
  // other senders none): whether each distinct one carries a threshold, and its rewrite with ours, are worked
  // out once per batch. (isTraceSampled still reads an undecided span's tracestate for an explicit `rv`.)
  const decidedByBrowser = new Map<string, boolean>();
  const withOurThreshold = new Map<string | undefined, string>();
  for (const rs of request.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      ss.spans = ss.spans.filter((span) => {
        const flags = span.flags ?? 0;
        const { traceState } = span;
        let keep: boolean;
        if (flags & HAS_FLAGS && !(flags & SAMPLED)) keep = false;
        else if (traceState !== undefined && cached(decidedByBrowser, traceState, hasThreshold)) keep = true;
        else {
          keep = keepAll || isTraceSampled(span.traceId, threshold, traceState);
          if (keep && !keepAll) {
            span.traceState = cached(withOurThreshold, traceState, (state) => withThreshold(state, threshold));
          }
        }
        if (keep) kept++;
        else sampledOut++;
        return keep;
      });
    }
    rs.scopeSpans = rs.scopeSpans.filter((ss) => ss.spans.length > 0);
  }
  request.resourceSpans = request.resourceSpans.filter((rs) => rs.scopeSpans.length > 0);
  return { kept, sampledOut };
}

function hasThreshold(traceState: string): boolean {
  return thresholdFromTraceState(traceState) !== undefined;
}

function cached<K, V>(cache: Map<K, V>, key: K, compute: (key: K) => V): V {
  let value = cache.get(key);
  if (value === undefined) {
    value = compute(key);
    cache.set(key, value);
  }
  return value;
}
