/**
 * The worker's output read by the real OpenTelemetry Collector, built from deploy/collector/manifest.yaml: the
 * official OpenTelemetry JS exporters (http/json and http/protobuf) send to the Node worker, the worker forwards
 * to the collector, and the collector's otlp_http exporter passes what it decoded on to a test receiver. The
 * worker's own tests read its output with the project's codec; here the collector's decoder must agree.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildStackBinaries } from '../../e2e/stack/build.ts';
import { pollUntil } from '../../e2e/stack/pollUntil.ts';
import { hashKey, parseConfig } from '../../worker/src/config.ts';
import { createLogger } from '../../worker/src/log.ts';
import { type NodeServer, startNodeServer } from '../../worker/src/node.ts';
import { startReceiver } from '../../worker/src/testing/otlpReceiver.ts';

const KEY = 'pk_collector_check';
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let collector: ChildProcess;
let worker: NodeServer;
let dir: string;

/** A port free on loopback now, for the collector's configuration file. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  receiver = await startReceiver();
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'rumkit-collector-check-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  otlp_http:
    endpoint: ${receiver.url.replace(/\/v1\/traces$/, '')}
    compression: none
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_http]
`,
  );
  const { collector: binary } = await buildStackBinaries({ log: () => {} });
  collector = spawn(binary, [`--config=${config}`], { stdio: 'ignore' });
  const collectorUrl = `http://127.0.0.1:${port}`;
  // Any answer means it listens.
  await pollUntil(
    'the collector to listen',
    async () =>
      (await fetch(`${collectorUrl}/v1/traces`, { method: 'POST', body: '{}' }).catch(() => undefined)) && true,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  worker = await startNodeServer(
    parseConfig({
      server: { port: 0 },
      tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
      upstream: { url: collectorUrl },
      metrics: { exportIntervalSeconds: 0 },
    }),
    createLogger('error', () => {}),
  );
});

afterAll(async () => {
  await worker?.close();
  collector?.kill('SIGTERM');
  await receiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it.each([
  ['http/json', JsonExporter],
  ['http/protobuf', ProtobufExporter],
])('takes %s from the official exporter and forwards what the collector reads whole', async (protocol, Exporter) => {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop-web' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('collector-check');
  for (let i = 0; i < 3; i++) {
    tracer
      .startSpan(`${protocol} ${i}`, {
        attributes: { 'url.full': `https://x.example/?token=t${i}`, 'app.count': i, 'app.ok': true },
      })
      .end();
  }
  const spans = memory.getFinishedSpans();
  const exporter = new Exporter({ url: `${worker.url}/v1/traces`, headers: { 'x-rumkit-key': KEY } });
  const result = await new Promise((resolve) => exporter.export(spans, resolve));
  expect(result).toMatchObject({ code: ExportResultCode.SUCCESS });
  await exporter.shutdown();

  const arrived = await pollUntil(
    `the ${protocol} spans through the collector`,
    async () => {
      const found = receiver.spans().filter((s) => s.name.startsWith(protocol));
      return found.length === spans.length ? found : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  for (const sent of spans) {
    const span = arrived.find((s) => s.spanId === sent.spanContext().spanId);
    expect(span?.traceId).toBe(sent.spanContext().traceId);
    expect(span?.name).toBe(sent.name);
    const attributes = Object.fromEntries(span?.attributes?.map((kv) => [kv.key, kv.value]) ?? []);
    expect(attributes['url.full']?.stringValue).toBe('https://x.example/?token=[Filtered]');
    expect(attributes['app.count']).toEqual({ intValue: String(sent.attributes['app.count']) });
    expect(attributes['app.ok']).toEqual({ boolValue: true });
  }
});
