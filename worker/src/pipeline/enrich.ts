/**
 * Enrich: adds what the edge knows and the browser does not — the browser, OS and device parsed from the
 * user agent, coarse geography, and the sender's clock drift — and moves the batch onto the edge's clock
 * when the sender's clock is off.
 *
 *     const skewMs = measureClockSkew(sentAtMs, receivedAtMs);          // before validate
 *     const enricher = createEnricher(config.enrich);                     // once
 *     enricher.enrich(batch, { skewMs, userAgent, geo });
 *
 * The agent stamps each batch with its span clock's "now" (`x-rumkit-sent-at` or `?sent_at=`); the gap to
 * the edge's clock at arrival is the drift plus the network time. Past the threshold every timestamp is
 * shifted by it, so browser spans line up with the backend spans they caused (Tempo's service graph pairs
 * them within a time window). The drift is recorded on the resource as `rumkit.clock.drift_ms` either way.
 * Geography is what the platform tells (`request.cf` on Workers, configured proxy headers on Node) and
 * never finer than a region; the client address itself is never added.
 */
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '@rumkit/otlp';
import Bowser from 'bowser';
import type { EdgeConfig } from '../config.ts';

export interface Geo {
  country?: string;
  continent?: string;
  region?: string;
  colo?: string;
  asn?: number;
}

export interface EnrichContext {
  /** Edge clock minus sender clock, in ms (from `measureClockSkew`). */
  skewMs: number | undefined;
  /** The request's User-Agent header, used when the resource carries no `user_agent.original`. */
  userAgent: string | undefined;
  geo: Geo | undefined;
}

export interface Enricher {
  enrich(request: ExportTraceServiceRequest, context: EnrichContext): void;
}

/** The sender's clock error: edge time at arrival minus the `sent-at` stamp; undefined without a sane stamp. */
export function measureClockSkew(sentAt: string | undefined, receivedAtMs: number): number | undefined {
  if (!sentAt || !/^\d{10,15}$/.test(sentAt)) return undefined;
  return receivedAtMs - Number(sentAt);
}

const UA_CACHE_SIZE = 512;

/**
 * Attributes only the edge writes: a sender's own are removed, whether or not the edge has a value — from spans
 * too, where a query or the collector's spanmetrics would read a span's attribute before the resource's.
 */
const EDGE_ONLY = new Set(['rumkit.edge.colo', 'rumkit.client.asn', 'rumkit.clock.drift_ms']);

export function createEnricher(config: EdgeConfig['enrich']): Enricher {
  const userAgents = new Map<string, KeyValue[]>();

  const userAgentAttributes = (ua: string): KeyValue[] => {
    let attributes = userAgents.get(ua);
    if (attributes) return attributes;
    const parsed = Bowser.parse(ua);
    attributes = [
      ...str('user_agent.name', parsed.browser.name),
      ...str('user_agent.version', parsed.browser.version),
      ...str('user_agent.os.name', parsed.os.name),
      ...str('user_agent.os.version', parsed.os.version),
      ...str('rumkit.device.type', parsed.platform.type),
    ];
    // Few distinct user agents make up most traffic; the cache starts over rather than grow without bound.
    if (userAgents.size >= UA_CACHE_SIZE) userAgents.clear();
    userAgents.set(ua, attributes);
    return attributes;
  };

  return {
    enrich(request, { skewMs, userAgent, geo }) {
      const shiftNs =
        skewMs !== undefined && Math.abs(skewMs) > config.clockSkewThresholdMs ? BigInt(skewMs) * 1_000_000n : 0n;
      // What the edge measured itself replaces whatever the sender wrote under the same key.
      const measured: KeyValue[] = [
        ...(config.geo && geo
          ? [
              ...str('geo.country.iso_code', geo.country),
              ...str('geo.continent.code', geo.continent),
              ...str('geo.region.iso_code', geo.region && geo.country ? `${geo.country}-${geo.region}` : undefined),
              ...str('rumkit.edge.colo', geo.colo),
              ...(geo.asn ? [{ key: 'rumkit.client.asn', value: { intValue: String(geo.asn) } }] : []),
            ]
          : []),
        ...(skewMs !== undefined
          ? [{ key: 'rumkit.clock.drift_ms', value: { intValue: String(Math.round(skewMs)) } }]
          : []),
      ];
      const replaced = new Set([...EDGE_ONLY, ...measured.map((kv) => kv.key)]);
      for (const rs of request.resourceSpans) {
        rs.resource ??= { attributes: [] };
        const attributes = rs.resource.attributes.filter((kv) => !replaced.has(kv.key));
        rs.resource.attributes = attributes;
        // The browser, OS and device only where the sender said nothing: an agent knows its own better.
        if (config.userAgent) {
          const ua = attributes.find((kv) => kv.key === 'user_agent.original')?.value.stringValue ?? userAgent;
          if (ua) {
            const has = new Set(attributes.map((kv) => kv.key));
            for (const kv of userAgentAttributes(ua)) if (!has.has(kv.key)) attributes.push(kv);
          }
        }
        attributes.push(...measured);
        for (const ss of rs.scopeSpans) {
          for (const span of ss.spans) {
            if (span.attributes?.some((kv) => EDGE_ONLY.has(kv.key))) {
              span.attributes = span.attributes.filter((kv) => !EDGE_ONLY.has(kv.key));
            }
            if (shiftNs !== 0n) shiftTimestamps(span, shiftNs);
          }
        }
      }
    },
  };
}

function shiftTimestamps(span: Span, shiftNs: bigint): void {
  const shift = (ns: string) => (BigInt(ns) + shiftNs).toString();
  span.startTimeUnixNano = shift(span.startTimeUnixNano);
  span.endTimeUnixNano = shift(span.endTimeUnixNano);
  for (const event of span.events ?? []) event.timeUnixNano = shift(event.timeUnixNano);
}

function str(key: string, value: string | undefined): KeyValue[] {
  const v: AnyValue | undefined = value ? { stringValue: value } : undefined;
  return v ? [{ key, value: v }] : [];
}
