/**
 * CPU per batch of the worker's pipeline in one Node process, without HTTP: each stage alone, and the
 * whole app (`app.request`, Hono included) with delivery into memory. Complements the load runs of the
 * shared ingest harness (RESULTS.md), which add the network, the server and the forward to the sink.
 *
 *     node --conditions=rumkit-source bench/worker/pipeline.ts [iterations]
 */
import { fileURLToPath } from 'node:url';
import { type ExportTraceServiceRequest, thresholdForRate } from '@rumkit/otlp';
import { decodeBody } from '../../worker/src/pipeline/decode.ts';
import { createEnricher } from '../../worker/src/pipeline/enrich.ts';
import { encodeForUpstream } from '../../worker/src/pipeline/forward.ts';
import { measure } from '../../worker/src/pipeline/measure.ts';
import { sample } from '../../worker/src/pipeline/sample.ts';
import { createScrubber } from '../../worker/src/pipeline/scrub.ts';
import { validate, validationLimits } from '../../worker/src/pipeline/validate.ts';
import { createTelemetry } from '../../worker/src/telemetry/telemetry.ts';
import { FIXTURE_NOW_MS, fixtureBytes, SHOP_KEY, testConfig } from '../../worker/src/testing/config.ts';
import { appOf } from './appOf.ts';

const iterations = Number(process.argv[2] ?? 3000);
const config = testConfig({ rateLimit: { perKey: { ratePerSecond: 1e9, burst: 1e9 } } });
const json = fixtureBytes('typical.json');
/** The goal is per batch of at most 64 KiB; the typical batch is 77.7 KB as JSON, so also its first spans that fit. */
const json64k = (() => {
  const batch = JSON.parse(new TextDecoder().decode(json)) as ExportTraceServiceRequest;
  const scopes = batch.resourceSpans.flatMap((rs) => rs.scopeSpans);
  const encode = () => new TextEncoder().encode(JSON.stringify(batch));
  let body = encode();
  while (body.byteLength > 65_536) {
    const last = scopes.findLast((ss) => ss.spans.length) as (typeof scopes)[number];
    last.spans.pop();
    body = encode();
  }
  return { body, spans: scopes.reduce((n, ss) => n + ss.spans.length, 0) };
})();
const gz = fixtureBytes('typical.json.gz');
const pb = fixtureBytes('typical.pb');

/**
 * A batch of `bytes` of OTLP/JSON whose attribute values are dense personal data (addresses, cards, numbers,
 * secrets in URLs, each different, from a seeded generator): the worst a sender can make the scrubber read, for the
 * rate limits' charge per 64 KiB (README, security model).
 */
function densePersonalData(bytes: number): Uint8Array<ArrayBuffer> {
  let seed = 42;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed;
  };
  const word = () => next().toString(36).slice(0, 6);
  const digits = (n: number) => String(next() % 10 ** n).padStart(n, '0');
  const pieces = [
    () => `${word()}.${word()}@${word()}.com`,
    () => `4111 ${digits(4)} ${digits(4)} ${digits(4)}`,
    () => `10.${next() % 256}.${next() % 256}.${next() % 256}`,
    () => `+1 415 555 ${digits(4)}`,
    () => `password=${word()}${word()}`,
    () => `https://u:${word()}@${word()}.io/?token=${word()}`,
  ];
  const text = () => {
    let out = '';
    while (out.length < 1000) out += `${(pieces[next() % pieces.length] as () => string)()} `;
    return out;
  };
  const batch = JSON.parse(new TextDecoder().decode(json)) as ExportTraceServiceRequest;
  const scope = batch.resourceSpans[0]?.scopeSpans[0] as ExportTraceServiceRequest['resourceSpans'][0]['scopeSpans'][0];
  const template = scope.spans[0] as (typeof scope.spans)[0];
  scope.spans = [];
  batch.resourceSpans = [
    { ...(batch.resourceSpans[0] as ExportTraceServiceRequest['resourceSpans'][0]), scopeSpans: [scope] },
  ];
  const encode = () => new TextEncoder().encode(JSON.stringify(batch));
  for (let i = 0; ; i++) {
    const span = {
      ...template,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      attributes: [0, 1, 2].map((k) => ({ key: `note.${k}`, value: { stringValue: text() } })),
    };
    scope.spans.push(span);
    if (encode().byteLength > bytes) {
      scope.spans.pop();
      return encode();
    }
  }
}

/** CPU µs per call of `fn`, median of 5 rounds after a warm-up round. */
async function cpu(fn: () => unknown | Promise<unknown>, calls = iterations): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls / 6; i++) await fn();
    const used = process.cpuUsage(start);
    if (round > 0) rounds.push((used.user + used.system) / (calls / 6));
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
const row = async (name: string, fn: () => unknown | Promise<unknown>, calls?: number) => {
  rows.push([name, await cpu(fn, calls)]);
};

/** CPU µs per batch of a stage that changes its batch: timed over fresh validated copies made beforehand. */
function stage(name: string, fn: (batch: ReturnType<typeof validated>) => unknown): void {
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    const copies = Array.from({ length: 200 }, validated);
    const start = process.cpuUsage();
    for (const copy of copies) fn(copy);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / copies.length);
  }
  rows.push([name, samples.sort((a, b) => a - b)[2] as number]);
}

const decodeJson = await cpu(decoded);
rows.push(['decode JSON (utf8 + JSON.parse)', decodeJson]);
await row('decode JSON+gzip', () =>
  decodeBody(gz, { contentType: 'application/json', contentEncoding: 'gzip' }, decodeLimits),
);
await row('decode protobuf', () =>
  decodeBody(pb, { contentType: 'application/x-protobuf', contentEncoding: undefined }, decodeLimits),
);
const parsed = decoded().request;
await row('validate (clean copy)', () => validate(parsed, limits, FIXTURE_NOW_MS));
stage('scrub', (batch) => scrubber.scrub(batch));

stage('measure (RUM metrics)', (batch) => measure(batch, 'shop', telemetry.metrics));
stage('sample (rate 0.5)', (batch) => sample(batch, th));
stage('enrich (UA cached, no shift)', (batch) =>
  enricher.enrich(batch, { skewMs: 0, userAgent: undefined, geo: undefined }),
);
stage('encode protobuf for upstream', (batch) => encodeForUpstream(batch, 'shop', 'protobuf'));
// After the stages, whose figures it would otherwise shift (it leaves the heap otherwise). Text made to make the rules' expressions backtrack: each is linear here, where catastrophic backtracking would take
// seconds. One span attribute each; the slowest of them is the row.
const adversarial = [
  'a'.repeat(4096),
  '1'.repeat(4096),
  '1 '.repeat(2048),
  'a.'.repeat(2048),
  ':'.repeat(4096),
  `/${'a1'.repeat(2047)}.`,
  '/1'.repeat(2048),
  '4111111111111112 '.repeat(240),
  '::ffff:1.'.repeat(455),
  '0 12 '.repeat(819),
  'ab12'.repeat(1024),
];
const withValue = (stringValue: string): Parameters<typeof sample>[0] => ({
  resourceSpans: [
    {
      scopeSpans: [
        {
          spans: [
            {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              name: 'adversarial',
              kind: 1,
              startTimeUnixNano: '1',
              endTimeUnixNano: '2',
              attributes: [{ key: 'x', value: { stringValue } }],
            },
          ],
        },
      ],
    },
  ],
});
const slowest = [];
for (const text of adversarial) slowest.push(await cpu(() => scrubber.scrub(withValue(text)), 300));
rows.push([`scrub, the slowest of ${adversarial.length} adversarial 4 KiB values`, Math.max(...slowest)]);

const { app } = await appOf(fileURLToPath(new URL('../..', import.meta.url)));
const dense = [65_536, 524_288].map(densePersonalData);
for (const [name, body, type, encoding] of [
  ['whole app, JSON', json, 'application/json', undefined],
  ['whole app, JSON+gzip', gz, 'application/json', 'gzip'],
  ['whole app, protobuf', pb, 'application/x-protobuf', undefined],
  [
    `whole app, JSON, ${json64k.spans} spans in ${json64k.body.byteLength} B`,
    json64k.body,
    'application/json',
    undefined,
  ],
  ...dense.map(
    (body) => [`whole app, ${body.byteLength} B of dense personal data`, body, 'application/json', undefined] as const,
  ),
] as const) {
  await row(
    name,
    async () => {
      const headers: Record<string, string> = { 'content-type': type, 'x-rumkit-key': SHOP_KEY };
      if (encoding) headers['content-encoding'] = encoding;
      const res = await app.request('/v1/traces', { method: 'POST', headers, body });
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    },
    // Some 30 ms each at 512 KiB: fewer calls, as many rounds.
    body.byteLength > 100_000 ? Math.max(60, iterations / 50) : iterations,
  );
}

console.log(
  `node ${process.version}, ${iterations} iterations, typical 50-span batch (JSON ${json.byteLength} B, gzip ${gz.byteLength} B, protobuf ${pb.byteLength} B)\n`,
);
console.log('| step | CPU µs per batch |\n| --- | ---: |');
for (const [name, us] of rows) console.log(`| ${name} | ${us.toFixed(0)} |`);
