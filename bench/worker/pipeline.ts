/**
 * CPU per batch of the worker's pipeline in one Node process, without HTTP: each stage alone, and the
 * whole app (`app.request`, Hono included) with delivery into memory. Complements the load runs of the
 * shared ingest harness (RESULTS.md), which add the network, the server and the forward to the sink.
 *
 *     node --conditions=rumkit-source bench/worker/pipeline.ts [iterations]
 */
import { thresholdForRate } from '@rumkit/otlp';
import { createApp } from '../../worker/src/app.ts';
import { createLogger } from '../../worker/src/log.ts';
import { decodeBody } from '../../worker/src/pipeline/decode.ts';
import { createEnricher } from '../../worker/src/pipeline/enrich.ts';
import { encodeForUpstream } from '../../worker/src/pipeline/forward.ts';
import { measure } from '../../worker/src/pipeline/measure.ts';
import { sample } from '../../worker/src/pipeline/sample.ts';
import { createScrubber } from '../../worker/src/pipeline/scrub.ts';
import { validate, validationLimits } from '../../worker/src/pipeline/validate.ts';
import { createTelemetry } from '../../worker/src/telemetry/telemetry.ts';
import { FIXTURE_NOW_MS, fixtureBytes, SHOP_KEY, testConfig } from '../../worker/src/testing/config.ts';
import { memoryRuntime } from '../../worker/src/testing/runtime.ts';

const iterations = Number(process.argv[2] ?? 3000);
const config = testConfig({ rateLimit: { perKey: { ratePerSecond: 1e9, burst: 1e9 } } });
const json = fixtureBytes('typical.json');
const gz = fixtureBytes('typical.json.gz');
const pb = fixtureBytes('typical.pb');

/** CPU µs per call of `fn`, median of 5 rounds after a warm-up round. */
async function cpu(fn: () => unknown | Promise<unknown>): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations / 6; i++) await fn();
    const used = process.cpuUsage(start);
    if (round > 0) rounds.push((used.user + used.system) / (iterations / 6));
  }
  return rounds.sort((a, b) => a - b)[2] as number;
}

const limits = validationLimits({ ...config.limits, maxAgeHours: 1e6 });
const decodeLimits = config.limits;
const decoded = () =>
  decodeBody(json, { contentType: 'application/json', contentEncoding: undefined }, decodeLimits) as {
    request: unknown;
  };
const validated = () =>
  (validate(decoded().request, limits, FIXTURE_NOW_MS) as { request: Parameters<typeof sample>[0] }).request;
const scrubber = createScrubber(config.scrub);
const telemetry = createTelemetry(config, 0);
const enricher = createEnricher(config.enrich);
const th = thresholdForRate(0.5);

const rows: Array<[string, number]> = [];
const row = async (name: string, fn: () => unknown | Promise<unknown>, minus = 0) => {
  rows.push([name, (await cpu(fn)) - minus]);
};

const decodeJson = await cpu(decoded);
rows.push(['decode JSON (utf8 + JSON.parse)', decodeJson]);
await row('decode JSON+gzip', () =>
  decodeBody(gz, { contentType: 'application/json', contentEncoding: 'gzip' }, decodeLimits),
);
await row('decode protobuf', () =>
  decodeBody(pb, { contentType: 'application/x-protobuf', contentEncoding: undefined }, decodeLimits),
);
const validateAndDecode = await cpu(validated);
rows.push(['validate (clean copy)', validateAndDecode - decodeJson]);
await row('scrub', () => scrubber.scrub(validated()), validateAndDecode);
await row('measure (RUM metrics)', () => measure(validated(), 'shop', telemetry.metrics), validateAndDecode);
await row('sample (rate 0.5)', () => sample(validated(), th), validateAndDecode);
await row(
  'enrich (UA cached, skew shift)',
  () => enricher.enrich(validated(), { skewMs: 5000, userAgent: undefined, geo: undefined }),
  validateAndDecode,
);
await row('encode protobuf for upstream', () => encodeForUpstream(validated(), 'shop', 'protobuf'), validateAndDecode);

const { runtime } = memoryRuntime({ now: () => FIXTURE_NOW_MS });
runtime.deliver = async () => undefined;
const app = createApp(
  config,
  runtime,
  createTelemetry(config, 0),
  createLogger('warn', () => {}),
);
for (const [name, body, type, encoding] of [
  ['whole app, JSON', json, 'application/json', undefined],
  ['whole app, JSON+gzip', gz, 'application/json', 'gzip'],
  ['whole app, protobuf', pb, 'application/x-protobuf', undefined],
] as const) {
  await row(name, async () => {
    const headers: Record<string, string> = { 'content-type': type, 'x-rumkit-key': SHOP_KEY };
    if (encoding) headers['content-encoding'] = encoding;
    const res = await app.request('/v1/traces', { method: 'POST', headers, body });
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  });
}

console.log(
  `node ${process.version}, ${iterations} iterations, typical 50-span batch (JSON ${json.byteLength} B, gzip ${gz.byteLength} B, protobuf ${pb.byteLength} B)\n`,
);
console.log('| step | CPU µs per batch |\n| --- | ---: |');
for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(0)} |`);
