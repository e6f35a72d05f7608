import type { ExportTraceServiceRequest } from '@rumkit/otlp';
import { describe, expect, it } from 'vitest';
import { testConfig, typicalBatch } from '../testing/config.ts';
import { createEnricher, measureClockSkew } from './enrich.ts';

const enricher = createEnricher(testConfig().enrich);
const resourceOf = (b: ExportTraceServiceRequest) =>
  Object.fromEntries(
    (b.resourceSpans[0]?.resource?.attributes ?? []).map((kv) => [kv.key, Object.values(kv.value)[0]]),
  );
const firstSpan = (b: ExportTraceServiceRequest) => b.resourceSpans[0]?.scopeSpans[0]?.spans[0];

describe('measureClockSkew', () => {
  it('is the edge clock minus the stamp, and nothing for a missing or silly stamp', () => {
    expect(measureClockSkew('1795167011000', 1795167012500)).toBe(1500);
    expect(measureClockSkew(undefined, 1)).toBeUndefined();
    expect(measureClockSkew('soon', 1)).toBeUndefined();
    expect(measureClockSkew('1e12', 1)).toBeUndefined();
  });
});

describe('enrich', () => {
  it('parses the user agent into browser, OS and device attributes', () => {
    const batch = typicalBatch();
    enricher.enrich(batch, { skewMs: undefined, userAgent: undefined, geo: undefined });
    expect(resourceOf(batch)).toMatchObject({
      'user_agent.name': 'Chrome',
      'user_agent.version': '142.0.0.0',
      'user_agent.os.name': 'Windows',
      'rumkit.device.type': 'desktop',
    });
  });

  it('falls back to the request’s User-Agent header', () => {
    const batch: ExportTraceServiceRequest = { resourceSpans: [{ scopeSpans: [] }] };
    const iphone =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    enricher.enrich(batch, { skewMs: undefined, userAgent: iphone, geo: undefined });
    expect(resourceOf(batch)).toMatchObject({
      'user_agent.name': 'Safari',
      'user_agent.os.name': 'iOS',
      'rumkit.device.type': 'mobile',
    });
  });

  it('adds coarse geography and never an address', () => {
    const batch = typicalBatch();
    enricher.enrich(batch, {
      skewMs: undefined,
      userAgent: undefined,
      geo: { country: 'DE', continent: 'EU', region: 'BE', colo: 'FRA', asn: 3320 },
    });
    expect(resourceOf(batch)).toMatchObject({
      'geo.country.iso_code': 'DE',
      'geo.continent.code': 'EU',
      'geo.region.iso_code': 'DE-BE',
      'rumkit.edge.colo': 'FRA',
      'rumkit.client.asn': '3320',
    });
  });

  it("replaces what a sender wrote under the edge's own keys, and removes the edge-only ones it has no value for", () => {
    const forged = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const sent = () => {
      const batch = typicalBatch();
      batch.resourceSpans[0]?.resource?.attributes.push(
        forged('geo.country.iso_code', 'XX'),
        forged('rumkit.edge.colo', 'NOWHERE'),
        forged('rumkit.client.asn', '1'),
        forged('rumkit.clock.drift_ms', '0'),
      );
      return batch;
    };
    const withGeo = sent();
    enricher.enrich(withGeo, { skewMs: 5000, userAgent: undefined, geo: { country: 'DE', colo: 'FRA', asn: 3320 } });
    expect(resourceOf(withGeo)).toMatchObject({
      'geo.country.iso_code': 'DE',
      'rumkit.edge.colo': 'FRA',
      'rumkit.client.asn': '3320',
      'rumkit.clock.drift_ms': '5000',
    });
    const keys = withGeo.resourceSpans[0]?.resource?.attributes.map((kv) => kv.key) ?? [];
    expect(keys.filter((key) => key === 'geo.country.iso_code' || key.startsWith('rumkit.c'))).toHaveLength(3);

    const withoutGeo = sent();
    enricher.enrich(withoutGeo, { skewMs: undefined, userAgent: undefined, geo: undefined });
    const resource = resourceOf(withoutGeo);
    expect(resource['geo.country.iso_code']).toBe('XX');
    for (const key of ['rumkit.edge.colo', 'rumkit.client.asn', 'rumkit.clock.drift_ms'])
      expect(resource).not.toHaveProperty(key);
  });

  it('removes the edge-only keys from span attributes too, and leaves the rest of them', () => {
    const batch = typicalBatch();
    const span = firstSpan(batch);
    const before = span?.attributes?.map((kv) => kv.key) ?? [];
    span?.attributes?.push(
      { key: 'rumkit.edge.colo', value: { stringValue: 'NOWHERE' } },
      { key: 'rumkit.clock.drift_ms', value: { intValue: '0' } },
    );
    enricher.enrich(batch, { skewMs: undefined, userAgent: undefined, geo: undefined });
    expect(firstSpan(batch)?.attributes?.map((kv) => kv.key)).toEqual(before);
    expect(before.length).toBeGreaterThan(0);
  });

  it('shifts every timestamp by the drift past the threshold and records the drift', () => {
    const batch = typicalBatch();
    const before = firstSpan(batch);
    const start = BigInt(before?.startTimeUnixNano ?? 0);
    const event = BigInt(before?.events?.[0]?.timeUnixNano ?? 0);
    enricher.enrich(batch, { skewMs: -3_600_000, userAgent: undefined, geo: undefined });
    const after = firstSpan(batch);
    expect(BigInt(after?.startTimeUnixNano ?? 0)).toBe(start - 3_600_000_000_000n);
    expect(BigInt(after?.events?.[0]?.timeUnixNano ?? 0)).toBe(event - 3_600_000_000_000n);
    expect(resourceOf(batch)['rumkit.clock.drift_ms']).toBe('-3600000');
  });

  it('leaves timestamps alone within the threshold but still records the drift', () => {
    const batch = typicalBatch();
    const start = firstSpan(batch)?.startTimeUnixNano;
    enricher.enrich(batch, { skewMs: 300, userAgent: undefined, geo: undefined });
    expect(firstSpan(batch)?.startTimeUnixNano).toBe(start);
    expect(resourceOf(batch)['rumkit.clock.drift_ms']).toBe('300');
  });
});
