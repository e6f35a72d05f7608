/**
 * The edge worker as a Hono app, independent of the runtime it runs on: the routes, and the ingest
 * pipeline `auth → decode → validate → scrub → sample → enrich → forward` wired in one place.
 *
 *     const app = createApp(config, runtime);         // runtime: see node.ts and cloudflare.ts
 *     serve({ fetch: app.fetch, port: 4318 });
 *
 * The runtime supplies what differs between Node and Workers: where accepted batches go (a queue with a
 * disk spool, or a Cloudflare Queue), the client's address and location, upstream health, and the
 * optional Rate Limiting binding.
 */
import { encodeTraceResponse, thresholdForRate } from '@rumkit/otlp';
import { type Context, Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { HTTPException } from 'hono/http-exception';
import type { EdgeConfig } from './config.ts';
import { cors } from './cors.ts';
import { createLogger, type Logger } from './log.ts';
import { authenticate, indexKeys, KEY_HEADER, TOKEN_HEADER } from './pipeline/auth.ts';
import { decodeBody, readBodyCapped } from './pipeline/decode.ts';
import { createEnricher, type Geo, measureClockSkew } from './pipeline/enrich.ts';
import { encodeInParts, type UpstreamPayload } from './pipeline/forward.ts';
import { measure } from './pipeline/measure.ts';
import { addressBucket, createRateLimiter } from './pipeline/rateLimit.ts';
import { isRejection, type Rejection, reject } from './pipeline/rejection.ts';
import { sample } from './pipeline/sample.ts';
import { createScrubber } from './pipeline/scrub.ts';
import { partialSuccessMessage, validate, validationLimits } from './pipeline/validate.ts';
import { createTelemetry, type Telemetry } from './telemetry/telemetry.ts';

export const SENT_AT_HEADER = 'x-rumkit-sent-at';

export interface Runtime {
  /** Takes accepted batches for delivery; a 503 rejection when past capacity, never a silent drop. */
  deliver(payloads: UpstreamPayload[], c: Context): Promise<Rejection | undefined>;
  /** Whether `deliver` can take more now, checked before reading a body. */
  hasCapacity(tenant: string): boolean;
  /** Largest payload `deliver` takes (Cloudflare Queue messages are capped); bigger batches are split. */
  maxPayloadBytes: number;
  /** The client's address (for rate limiting only: it is never forwarded) and coarse location. */
  client(c: Context): { ip: string | undefined; geo: Geo | undefined };
  /** The request body as chunks, when the runtime has a cheaper way than the web Request's stream. */
  requestBody?(c: Context): AsyncIterable<Uint8Array>;
  /** Upstream reachability for /health. */
  upstreamHealth(): Promise<{ reachable: boolean; circuit: string }>;
  /** An extra abuse guard (Cloudflare's Rate Limiting binding); false means refuse. */
  abuseGuard?(id: string): Promise<boolean>;
  /** Serve Prometheus text at /metrics (Node). */
  metricsRoute: boolean;
  /** Called after each ingest request; Cloudflare schedules its metrics export here. */
  afterIngest?(c: Context): void;
  now?(): number;
}

const HEALTH_PROBE_INTERVAL_MS = 5_000;
/** What the dry-run route takes, as sent and after gunzip. */
const DRY_RUN_MAX_BODY_BYTES = 262_144;
/** The Rate Limiting binding's period in wrangler.toml (Cloudflare allows 10 or 60 s): its refusal's Retry-After. */
const ABUSE_GUARD_RETRY_AFTER_S = 10;
/** A batch up to this size, inflated, costs one token: the browser agent's stay within it (the beacon quota). */
const RATE_UNIT_BYTES = 65_536;

export function createApp(
  config: EdgeConfig,
  runtime: Runtime,
  telemetry: Telemetry = createTelemetry(config, Date.now()),
  log: Logger = createLogger(config.log.level),
): Hono {
  const now = runtime.now ?? Date.now;
  const { metrics } = telemetry;
  const keys = indexKeys(config.tenants);
  const scrubbers = new Map(config.tenants.map((t) => [t.id, createScrubber(config.scrub, t.scrubRules)]));
  const thresholds = new Map(config.tenants.map((t) => [t.id, thresholdForRate(t.sampleRate)]));
  const keyLimiter = createRateLimiter(config.rateLimit.perKey, config.rateLimit.maxTrackedClients);
  const ipLimiter = createRateLimiter(config.rateLimit.perIp, config.rateLimit.maxTrackedClients);
  const limits = validationLimits(config.limits);
  const enricher = createEnricher(config.enrich);
  const tracesPaths = ['/v1/traces', config.server.tracesAlias];
  /** The id of each ingest request, for the log line of an error that escapes the handler. */
  const requestIds = new WeakMap<Request, string>();

  const credentials = (c: Context) => ({
    key: c.req.header(KEY_HEADER) ?? c.req.query('key'),
    origin: c.req.header('origin'),
    token: c.req.header(TOKEN_HEADER) ?? c.req.query('token'),
  });

  /** Auth and rate limits: everything decided before the body is read but the delivery's capacity. */
  const admit = async (c: Context, nowMs: number) => {
    const auth = authenticate(keys, credentials(c), nowMs);
    const { ip, geo } = runtime.client(c);
    // The address first, whatever the key: a client over its own limit must not spend the tokens every user of
    // the key shares, and a flood of wrong keys is limited like any other.
    const ipBucket = ip ? addressBucket(ip) : undefined;
    const refused = (refusal: Rejection) => (isRejection(auth) ? refusal : { ...refusal, tenant: auth.tenant.id });
    const ipWait = ipBucket ? ipLimiter.take(ipBucket, nowMs) : 0;
    if (ipWait) return refused(reject('rate_limited', 'too many requests from this address', ipWait));
    // The platform's limit, shared by every isolate, counts wrong keys too. By the same /64 as the address
    // bucket: one host has them all, and cycling through them must not help.
    const guardKey = ipBucket ?? (isRejection(auth) ? undefined : auth.key.id);
    if (runtime.abuseGuard && guardKey && !(await runtime.abuseGuard(guardKey))) {
      return refused(reject('rate_limited', 'too many requests (abuse guard)', ABUSE_GUARD_RETRY_AFTER_S));
    }
    if (isRejection(auth)) return auth;
    const keyWait = keyLimiter.take(auth.key.id, nowMs);
    if (keyWait) return refused(reject('rate_limited', 'too many requests for this key', keyWait));
    return { ...auth, geo, ipBucket };
  };

  /**
   * What a batch larger than `RATE_UNIT_BYTES` once inflated costs its address and key beyond the token its
   * request took: one token per unit started. 512 KiB of dense personal data takes 15 ms of CPU, 26 times 64 KiB of a
   * typical batch (bench/worker/pipeline.ts), which a limit counting requests sold for one token. Charged once the body
   * is inflated, before it is parsed, validated and scrubbed, which is where that CPU goes: a body that turns out
   * malformed has paid too.
   */
  const chargeSize = (admitted: { ipBucket?: string; key: { id: string } }, bytes: number, nowMs: number) => {
    const extra = Math.ceil(bytes / RATE_UNIT_BYTES) - 1;
    if (extra <= 0) return undefined;
    const { ipBucket } = admitted;
    const ipWait = ipBucket ? ipLimiter.take(ipBucket, nowMs, extra, 1) : 0;
    if (ipWait) return reject('rate_limited', 'too many bytes from this address', ipWait);
    const keyWait = keyLimiter.take(admitted.key.id, nowMs, extra, 1);
    if (!keyWait) return undefined;
    // The key's refusal is not the address's doing: its tokens go back, as when admission refuses for the key.
    if (ipBucket) ipLimiter.refund(ipBucket, extra);
    return reject('rate_limited', 'too many bytes for this key', keyWait);
  };

  /** Decode and validate: the request body as a clean OTLP batch on the sender's clock. */
  const readBatch = async (
    c: Context,
    admitted: Parameters<typeof chargeSize>[0],
    receivedAtMs: number,
    skewMs: number | undefined,
    bodyLimits: EdgeConfig['limits'] = config.limits,
  ) => {
    const stream = runtime.requestBody ? runtime.requestBody(c) : c.req.raw.body;
    const body = await readBodyCapped(stream, c.req.header('content-length'), bodyLimits.maxBodyBytes);
    if (isRejection(body)) return body;
    const headers = { contentType: c.req.header('content-type'), contentEncoding: c.req.header('content-encoding') };
    const decoded = decodeBody(body, headers, bodyLimits, (bytes) => chargeSize(admitted, bytes, receivedAtMs));
    if (isRejection(decoded)) return decoded;
    const checked = validate(decoded.request, limits, receivedAtMs - (skewMs ?? 0));
    return isRejection(checked) ? checked : { ...checked, format: decoded.format };
  };

  const fail = (c: Context, rejection: Rejection) => {
    if (rejection.retryAfter) c.header('retry-after', String(rejection.retryAfter));
    return c.json({ error: rejection.outcome, message: rejection.message }, rejection.status);
  };

  const ingest = async (c: Context) => {
    const receivedAtMs = now();
    const requestId = c.req.header('x-request-id')?.slice(0, 64) ?? crypto.randomUUID();
    requestIds.set(c.req.raw, requestId);
    let tenant = 'unknown';
    let key: string | undefined;
    const finish = (status: number, outcome: string, fields: Record<string, number> = {}) => {
      metrics.requests.add({ tenant, outcome });
      metrics.requestDuration.observe({ tenant }, (now() - receivedAtMs) / 1000);
      // Refusals for a rate are counted in the metrics; logging each would let a flood write the logs.
      log[status < 300 || status === 429 ? 'debug' : 'info']('ingest', {
        requestId,
        tenant,
        ...(key && { key }),
        status,
        outcome,
        ...fields,
      });
      runtime.afterIngest?.(c);
    };
    const refuse = (rejection: Rejection) => {
      tenant = rejection.tenant ?? tenant;
      finish(rejection.status, rejection.outcome);
      return fail(c, rejection);
    };

    const admitted = await admit(c, receivedAtMs); // auth, rate limits
    if (isRejection(admitted)) return refuse(admitted);
    tenant = admitted.tenant.id;
    key = admitted.key.id;
    // Before the body is read; only this route forwards (the dry run does not).
    if (!runtime.hasCapacity(tenant))
      return refuse(reject('queue_overflow', 'the edge is at capacity; retry later', 5));
    const skewMs = measureClockSkew(c.req.header(SENT_AT_HEADER) ?? c.req.query('sent_at'), receivedAtMs);
    const checked = await readBatch(c, admitted, receivedAtMs, skewMs); // decode, rate by size, validate
    if (isRejection(checked)) return refuse(checked);
    const batch = checked.request;
    const scrubbed = scrubbers.get(tenant)?.scrub(batch); // scrub
    const sampled = sample(batch, thresholds.get(tenant) as string); // sample
    const { sampledOut } = sampled;
    let { kept } = sampled;
    enricher.enrich(sampled.request, { skewMs, userAgent: c.req.header('user-agent'), geo: admitted.geo }); // enrich
    let oversized = 0;
    if (kept > 0) {
      const parts = encodeInParts(sampled.request, tenant, config.upstream.protocol, runtime.maxPayloadBytes);
      if (parts.payloads.length > 0) {
        const refused = await runtime.deliver(parts.payloads, c); // forward
        // Nothing of a refused batch is counted: the sender sends it again.
        if (refused) return refuse(refused);
      }
      oversized = parts.oversized;
      kept -= oversized;
    }
    const acceptedSpans = checked.acceptedSpans - oversized;
    const rejectedSpans = checked.rejectedSpans + oversized;
    const errors = oversized
      ? [
          ...checked.errors,
          `${oversized} spans each larger than ${runtime.maxPayloadBytes} bytes, the most the edge can queue`,
        ]
      : checked.errors;
    metrics.spans.add({ tenant, outcome: 'received' }, acceptedSpans + rejectedSpans);
    metrics.spans.add({ tenant, outcome: 'accepted' }, acceptedSpans);
    if (rejectedSpans) metrics.spans.add({ tenant, outcome: 'rejected' }, rejectedSpans);
    if (sampledOut) metrics.spans.add({ tenant, outcome: 'sampled_out' }, sampledOut);
    if (scrubbed?.spans) metrics.spans.add({ tenant, outcome: 'scrubbed' }, scrubbed.spans);
    for (const [rule, count] of Object.entries(scrubbed?.redactions ?? {}))
      metrics.redactions.add({ tenant, rule }, count);
    measure(batch, tenant, metrics); // RUM metrics from every accepted span, the sampled-out ones too

    finish(200, 'accepted', { spans: acceptedSpans, rejected: rejectedSpans, kept });
    const partialSuccess = rejectedSpans
      ? {
          rejectedSpans: String(rejectedSpans),
          errorMessage: partialSuccessMessage({ ...checked, rejectedSpans, errors }),
        }
      : {};
    if (checked.format === 'protobuf') {
      return c.body(encodeTraceResponse({ partialSuccess }) as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/x-protobuf',
      });
    }
    return c.json({ partialSuccess });
  };

  const app = new Hono();
  const allowedOrigins = new Set(config.tenants.flatMap((t) => t.keys.flatMap((k) => k.origins)));
  const corsHeaders = cors({
    allowOrigin: (origin) => allowedOrigins.has(origin),
    allowMethods: ['POST', 'GET', 'OPTIONS'],
    allowHeaders: ['content-type', 'content-encoding', KEY_HEADER, TOKEN_HEADER, SENT_AT_HEADER],
    exposeHeaders: ['retry-after'],
    maxAgeSeconds: 7200,
  });
  for (const path of [...tracesPaths, '/v1/config', '/v1/scrub/dry-run']) app.use(path, corsHeaders);
  for (const path of tracesPaths) app.post(path, ingest);

  app.get('/v1/config', (c) => {
    const auth = authenticate(keys, credentials(c), now());
    if (isRejection(auth)) return fail(c, auth);
    c.header('cache-control', 'public, max-age=300');
    // The answer is the key's: a shared cache must not hand it to a request with another key in a header.
    c.header('vary', `${KEY_HEADER}, ${TOKEN_HEADER}`, { append: true });
    return c.json({
      sampleRate: auth.tenant.sampleRate,
      maxBatchBytes: config.limits.maxBodyBytes,
      maxSpansPerBatch: config.limits.maxSpansPerBatch,
    });
  });

  // What a payload would become: decoded, validated and scrubbed, then shown instead of forwarded. Its answer
  // holds the whole payload, so the payload is kept small: a little gzip must not buy megabytes back.
  const dryRunLimits = {
    ...config.limits,
    maxBodyBytes: Math.min(config.limits.maxBodyBytes, DRY_RUN_MAX_BODY_BYTES),
    maxDecompressedBytes: Math.min(config.limits.maxDecompressedBytes, DRY_RUN_MAX_BODY_BYTES),
  };
  app.post('/v1/scrub/dry-run', async (c) => {
    const admitted = await admit(c, now());
    if (isRejection(admitted)) return fail(c, admitted);
    const checked = await readBatch(c, admitted, now(), undefined, dryRunLimits);
    if (isRejection(checked)) return fail(c, checked);
    const redactions = scrubbers.get(admitted.tenant.id)?.scrub(checked.request, { dryRun: true }).redactions ?? {};
    return c.json({ request: checked.request, redactions, rejectedSpans: checked.rejectedSpans });
  });

  // Callers within a few seconds share one probe of the upstream: /health is open to anyone, and a flood of it
  // must not become a flood of requests to the collector.
  let health: { atMs: number; answer: ReturnType<Runtime['upstreamHealth']> } | undefined;
  app.get('/health', async (c) => {
    if (!health || now() - health.atMs >= HEALTH_PROBE_INTERVAL_MS) {
      health = { atMs: now(), answer: runtime.upstreamHealth() };
    }
    return c.json({ status: 'ok', upstream: await health.answer });
  });
  if (runtime.metricsRoute) {
    const { metricsToken } = config.server;
    if (metricsToken) app.use('/metrics', bearerAuth({ token: metricsToken }));
    app.get('/metrics', (c) =>
      c.body(telemetry.registry.renderPrometheus(), 200, { 'content-type': 'text/plain; version=0.0.4' }),
    );
  }
  app.notFound((c) => c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    // Hono's own middleware (bearerAuth's 401) answers by throwing its response.
    if (error instanceof HTTPException) return error.getResponse();
    log.error('unhandled', { requestId: requestIds.get(c.req.raw), message: error.message });
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });
  return app;
}
