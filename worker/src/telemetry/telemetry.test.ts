import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpTransport } from '../adapter/node/httpTransport.ts';
import { testConfig } from '../testing/config.ts';
import { startReceiver } from '../testing/otlpReceiver.ts';
import { createTelemetry, exportMetrics } from './telemetry.ts';

let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.stop());

describe('exportMetrics', () => {
  it('rejects rather than throws when the body cannot be built: its timer must not take the process down', async () => {
    const config = testConfig({ upstream: { url: receiver.url } });
    const telemetry = createTelemetry(config, 1_000);
    telemetry.registry.toOtlp = () => {
      throw new RangeError('Invalid string length');
    };
    const transport = createHttpTransport();
    let exported: Promise<unknown> | undefined;
    expect(() => {
      exported = exportMetrics(telemetry, transport, config.upstream, 2_000);
    }).not.toThrow();
    await expect(exported).rejects.toThrow(RangeError);
    transport.close();
  });

  it('posts every metric as OTLP/JSON to <upstream>/v1/metrics with the bearer token, without a tenant header', async () => {
    const config = testConfig({ upstream: { url: receiver.url, bearerToken: 'collector-secret' } });
    const telemetry = createTelemetry(config, 1_000);
    telemetry.metrics.requests.add({ tenant: 'shop', outcome: 'accepted' }, 3);
    telemetry.metrics.webVitals.LCP.observe({ tenant: 'shop', service: 'web', route: '/' }, 2.1);
    const transport = createHttpTransport();
    expect(await exportMetrics(telemetry, transport, config.upstream, 2_000)).toEqual({ kind: 'delivered' });
    transport.close();
    const [sent] = receiver.received.filter((r) => r.path === '/v1/metrics');
    expect(sent?.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer collector-secret',
    });
    expect(sent?.headers['x-scope-orgid']).toBeUndefined();
    if (!sent) throw new Error('no metrics export reached the receiver');
    const metrics = (
      sent.metrics as {
        resourceMetrics: [{ resource: unknown; scopeMetrics: [{ metrics: Array<{ name: string }> }] }];
      }
    ).resourceMetrics[0];
    expect(metrics.resource).toMatchObject({
      attributes: expect.arrayContaining([{ key: 'service.name', value: { stringValue: 'rumkit-edge' } }]),
    });
    const names = metrics.scopeMetrics[0].metrics.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining(['rumkit.edge.requests', 'rumkit.web_vital.lcp', 'rumkit.page_views']),
    );
  });
});
