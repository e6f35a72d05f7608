/**
 * The edge worker on Cloudflare Workers (`wrangler deploy`, configured by the top-level wrangler.toml).
 *
 * Only runtime glue lives here: the configuration from vars, secrets and KV; a `fetch` transport; the
 * Queue producer (the request path hands accepted batches to FORWARD_QUEUE and answers) and consumer (which
 * forwards them with retries; what still fails after `max_retries` goes to the dead-letter queue); the
 * Rate Limiting binding as an abuse guard; geography from `request.cf`; and the metrics export, scheduled
 * with `waitUntil` at most once per export interval per instance.
 */
import type { Env, ExecutionContext, IncomingCf, MessageBatch, QueueMessage } from './adapter/cloudflare/bindings.ts';
import { sendBatches } from './adapter/cloudflare/sendBatches.ts';
import { createApp } from './app.ts';
import { ConfigError, type EdgeConfig, parseConfig, readConfigText } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import {
  CIRCUIT_STATE_VALUES,
  type ExportResult,
  exportGroups,
  forwardWithRetry,
  queueRetryDelaySeconds,
  refusedReason,
  sendMerged,
  TenantBreakers,
  type Transport,
  type UpstreamPayload,
} from './pipeline/forward.ts';
import { reject } from './pipeline/rejection.ts';
import { registerForwardGauges } from './telemetry/edgeMetrics.ts';
import { createTelemetry, exportMetrics, type Telemetry } from './telemetry/telemetry.ts';

/** Queue messages hold at most 128 KB; parts stay below with room for the envelope. */
const MAX_MESSAGE_BYTES = 120 * 1024;
/** Cloudflare's own default when the consumer sets no max_retries. */
const DEFAULT_MAX_RETRIES = 3;
/** A configuration load (KV) that takes longer fails, so that the requests waiting for it are not held forever. */
const LOAD_DEADLINE_MS = 10_000;
/** The longest delay a Queue retry may ask for. */
const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60;

const fetchTransport: Transport = async (url, body, headers, timeoutMs) => {
  // A redirect is the upstream's answer, not somewhere to send the spans, the tenant and the token: it is final,
  // as on Node, where node:http follows none (and a 301/302 would turn the POST into a GET without a body).
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  return { status: response.status, retryAfter: response.headers.get('retry-after') ?? undefined };
};

interface Instance {
  source: string;
  loadedAt: number;
  /** How long a loaded configuration stands before KV and the vars are read again. */
  ttlMs: number;
  /** The consumer's `max_retries`: a batch failing the attempt after it is dead-lettered. */
  maxRetries: number;
  config: EdgeConfig;
  telemetry: Telemetry;
  breakers: TenantBreakers;
  log: Logger;
  app: ReturnType<typeof createApp>;
  lastExport: number;
  /** Replaced by a newer configuration: work it still finishes is counted here, after its final export. */
  retired?: boolean;
}

/**
 * This isolate's app, rebuilt when the configuration it was built from changed. A configuration that fails to load
 * (KV failing, a bad entry) leaves the last good one serving, with an error in the log once per reload interval:
 * without one, every request would be refused and every Queue delivery would fail until it was dead-lettered.
 */
async function load(env: Env, last: Instance | undefined): Promise<Instance> {
  if (last && Date.now() - last.loadedAt < last.ttlMs) return last;
  try {
    return await withDeadline(reload(env, last), LOAD_DEADLINE_MS);
  } catch (error) {
    if (!last) throw error;
    last.loadedAt = Date.now();
    last.log.error('configuration reload failed; the last good configuration goes on serving', {
      message: error instanceof Error ? error.message : String(error),
    });
    return last;
  }
}

async function reload(env: Env, last: Instance | undefined) {
  const ttlMs = wholeNumberVar(env, 'RUMKIT_CONFIG_TTL_SECONDS', 60) * 1000;
  const maxRetries = wholeNumberVar(env, 'RUMKIT_QUEUE_MAX_RETRIES', DEFAULT_MAX_RETRIES);
  const fromKv = await env.RUMKIT_KV?.get('config');
  // An empty entry is no configuration: the var stands.
  const text = fromKv || env.RUMKIT_CONFIG;
  if (!text) throw new ConfigError('RUMKIT_CONFIG (var) or the `config` entry of the RUMKIT_KV namespace is required');
  const strings = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const source = `${text}\u0000${JSON.stringify(strings)}`;
  if (last?.source === source) {
    last.loadedAt = Date.now();
    return last;
  }
  const config = parseConfig(
    readConfigText(text, fromKv ? 'the `config` entry of RUMKIT_KV' : 'RUMKIT_CONFIG'),
    strings,
  );
  const telemetry = createTelemetry(config, Date.now());
  const breakers = new TenantBreakers(config.upstream.circuitBreaker);
  const log = createLogger(config.log.level);
  registerForwardGauges(telemetry.registry, {
    // The Queue's backlog is Cloudflare's to report (dashboard, GraphQL); this instance sees none of it.
    queueDepth: () => 0,
    queueBytes: () => 0,
    upstreamUp: () => (breakers.state(Date.now()) === 'closed' ? 1 : 0),
    circuitState: () => CIRCUIT_STATE_VALUES[breakers.state(Date.now())],
  });
  const app = createApp(
    config,
    {
      async deliver(payloads) {
        try {
          // All or nothing per call (./adapter/cloudflare/sendBatches.ts). v8 serialization keeps the body a
          // Uint8Array (the default, JSON, would not).
          for (const group of sendBatches(payloads)) {
            await env.FORWARD_QUEUE.sendBatch(group.map((body) => ({ body, contentType: 'v8' as const })));
          }
          return undefined;
        } catch (error) {
          log.error('queue send failed', { message: (error as Error).message });
          return reject('forward_failed', 'the batch could not be queued; retry later', 5);
        }
      },
      hasCapacity: () => true,
      maxPayloadBytes: MAX_MESSAGE_BYTES,
      client(c) {
        const cf = (c.req.raw as Request & { cf?: IncomingCf }).cf;
        return {
          ip: c.req.header('cf-connecting-ip'),
          geo: cf && {
            country: cf.country,
            continent: cf.continent,
            region: cf.regionCode,
            colo: cf.colo,
            asn: cf.asn,
          },
        };
      },
      async upstreamHealth() {
        let reachable = false;
        try {
          const response = await fetch(config.upstream.url, {
            redirect: 'manual',
            signal: AbortSignal.timeout(2000),
          });
          await response.body?.cancel();
          reachable = true;
        } catch {}
        return { reachable, circuit: breakers.state(Date.now()) };
      },
      abuseGuard: env.ABUSE_LIMITER
        ? async (id) => {
            try {
              return (await (env.ABUSE_LIMITER as NonNullable<Env['ABUSE_LIMITER']>).limit({ key: id })).success;
            } catch (error) {
              // A guard against abuse, not the only limit (the per-key and per-address buckets remain): a binding
              // that fails lets the request through rather than failing it.
              log.error('rate limiting binding failed', { message: (error as Error).message });
              return true;
            }
          }
        : undefined,
      metricsRoute: false,
      afterIngest(c) {
        exportIfDue(self, c.executionCtx);
      },
    },
    telemetry,
    log,
  );
  const self: Instance = {
    source,
    loadedAt: Date.now(),
    ttlMs,
    maxRetries,
    config,
    telemetry,
    breakers,
    log,
    app,
    lastExport: Date.now(),
  };
  return self;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the configuration did not load within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A var holding a count (seconds, retries); one that holds anything else is a configuration error. */
function wholeNumberVar(env: Env, name: 'RUMKIT_CONFIG_TTL_SECONDS' | 'RUMKIT_QUEUE_MAX_RETRIES', unset: number) {
  const value = env[name];
  if (value === undefined) return unset;
  const count = wholeNumber(value);
  if (count === undefined) throw new ConfigError(`${name}: a whole number is required, not ${JSON.stringify(value)}`);
  return count;
}

function wholeNumber(value: string | undefined): number | undefined {
  return value !== undefined && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : undefined;
}

/**
 * Exports this isolate's metrics once an export interval has passed since the last export, or at once for an
 * instance a newer configuration replaced while it finished a request or a delivery. Called after ingest requests
 * and Queue batches alike: an isolate lives only while it has work, and Workers have no timers between invocations.
 */
function exportIfDue(current: Instance, ctx: Pick<ExecutionContext, 'waitUntil'>): void {
  const interval = current.config.metrics.exportIntervalSeconds * 1000;
  if (interval > 0 && (current.retired || Date.now() - current.lastExport >= interval)) exportNow(current, ctx);
}

function exportNow(current: Instance, ctx: Pick<ExecutionContext, 'waitUntil'>): void {
  current.lastExport = Date.now();
  ctx.waitUntil(
    exportMetrics(current.telemetry, fetchTransport, current.config.upstream, Date.now()).catch((error: unknown) =>
      current.log.error('metrics export failed', { reason: String(error) }),
    ),
  );
}

/**
 * Without a configuration (a bad one, or KV failing) the app cannot answer, so this does. The log
 * (`wrangler tail`) names the problem; the client, who may be anyone, learns only that the worker is
 * misconfigured or unavailable, not how its tenants and upstream are laid out. The CORS headers echo any origin,
 * since the allowed ones are unknown: the answer holds nothing, and the agent can read its Retry-After.
 */
function unconfiguredResponse(request: Request, error: unknown): Response {
  const invalid = error instanceof ConfigError;
  const origin = request.headers.get('origin');
  const cors = origin
    ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'retry-after', vary: 'Origin' }
    : {};
  return Response.json(
    invalid
      ? { error: 'config', message: "the worker's configuration is invalid; its log names the problem" }
      : { error: 'unavailable', message: 'the worker could not load its configuration; try again later' },
    { status: 503, headers: { 'retry-after': String(retryAfterSeconds(error)), ...cors } },
  );
}

/**
 * How long an isolate without a configuration keeps its answer before it tries to load one again: a bad one
 * waits for a fix, KV failing may pass sooner. Requests meanwhile are answered without a read of KV each (reads
 * are billed, and the Free plan has 100,000 a day) and the log has one line per try, not one per request.
 */
function retryAfterSeconds(error: unknown): number {
  return error instanceof ConfigError ? 60 : 10;
}

/** The log of an isolate without a configuration, and so without the logger its configuration sets up. */
const unconfiguredLog = createLogger('error', (line) => console.error(line));

/** Logs why no configuration could be loaded. */
function logUnconfigured(error: unknown): void {
  const invalid = error instanceof ConfigError;
  unconfiguredLog.error(
    `${invalid ? 'bad configuration' : 'no configuration'}; requests are refused and Queue deliveries held back until one loads (next try in ${retryAfterSeconds(error)} s)`,
    { message: error instanceof Error ? error.message : String(error) },
  );
}

/**
 * A Queue delivery without a configuration to forward it with waits, longer at each attempt (Cloudflare counts
 * these waits as attempts too): 1 min, 2, 4, … up to 12 h, so wrangler.toml's 10 retries give about 17 h to fix
 * the configuration before the batch is dead-lettered, where a fixed minute gave ten minutes.
 */
function unconfiguredRetryDelaySeconds(attempts: number): number {
  return Math.min(MAX_RETRY_DELAY_SECONDS, 60 * 2 ** Math.min(attempts - 1, 20));
}

/** The worker's handlers, with the state of one isolate: its configuration and what was built from it. */
export function createWorker() {
  let instance: Instance | undefined;
  /**
   * The load under way. An isolate serves requests concurrently: those that arrive while KV is read wait for that
   * read rather than each building an app (and metrics, and a circuit breaker) of its own, which only the last to
   * finish would keep, losing the counts of the others.
   */
  let loading: Promise<Instance> | undefined;
  /** Why this isolate has no configuration, until when that stands (the Retry-After its answers give). */
  let failure: { error: unknown; until: number } | undefined;
  const current = (env: Env, ctx: Pick<ExecutionContext, 'waitUntil'>): Promise<Instance> => {
    if (failure && Date.now() < failure.until) return Promise.reject(failure.error);
    if (loading) return loading;
    loading = load(env, instance)
      .then(
        (loaded) => {
          // The outgoing instance's counts since its last export go out with its last export, not with it. (Here,
          // not in reload: a reload past its deadline may still finish, and its instance is then never used.)
          if (instance && loaded !== instance) {
            instance.retired = true;
            if (instance.config.metrics.exportIntervalSeconds > 0) exportNow(instance, ctx);
          }
          instance = loaded;
          failure = undefined;
          return loaded;
        },
        (error: unknown) => {
          failure = { error, until: Date.now() + retryAfterSeconds(error) * 1000 };
          logUnconfigured(error);
          throw error;
        },
      )
      .finally(() => {
        loading = undefined;
      });
    // Its KV read is the I/O of the request that started it, which others wait for: kept alive until it settles,
    // should that request's client go away.
    ctx.waitUntil(loading.catch(() => {}));
    return loading;
  };
  return {
    async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
      let app: Instance['app'];
      try {
        app = (await current(env, ctx)).app;
      } catch (error) {
        return unconfiguredResponse(request, error);
      }
      return app.fetch(request, env, ctx as never);
    },

    /**
     * The Queue consumer: forwards the batches of a delivery, a tenant's merged into one export each as on Node;
     * Cloudflare redelivers retried ones and dead-letters the rest.
     */
    async queue(batch: MessageBatch<UpstreamPayload>, env: Env, ctx: ExecutionContext): Promise<void> {
      let serving: Instance;
      try {
        serving = await current(env, ctx);
      } catch {
        // No configuration to forward with, ever in this isolate (its log says why): each message waits, longer each
        // time, rather than failing, which Cloudflare redelivers at once, spending its attempts in seconds (10
        // retries span about 17 h). There are no metrics to count what is dead-lettered in the end; the log names it.
        const maxRetries = wholeNumber(env.RUMKIT_QUEUE_MAX_RETRIES) ?? DEFAULT_MAX_RETRIES;
        for (const message of batch.messages) {
          if (message.attempts > maxRetries) {
            const { tenant, spans } = message.body;
            unconfiguredLog.error('batch dead-lettered: no configuration to forward it', { tenant, spans });
          }
          message.retry({ delaySeconds: unconfiguredRetryDelaySeconds(message.attempts) });
        }
        return;
      }
      const { config, telemetry, breakers, log, maxRetries } = serving;
      const once = { ...config.upstream, retry: { ...config.upstream.retry, maxAttempts: 1 } };
      const forward = (payload: UpstreamPayload) =>
        forwardWithRetry(
          payload,
          {
            transport: fetchTransport,
            breaker: breakers.of(payload.tenant),
            now: Date.now,
            random: Math.random,
            sleep: async () => {},
            onAttempt: (seconds) => telemetry.metrics.forwardDuration.observe({ tenant: payload.tenant }, seconds),
          },
          once,
        );
      const settle = (message: QueueMessage<UpstreamPayload>, result: ExportResult) => {
        const payload = message.body;
        if (result.kind === 'retry') {
          if (message.attempts > maxRetries) {
            // Its last attempt: Cloudflare moves it to the dead-letter queue, where no one counts it.
            telemetry.metrics.spans.add({ tenant: payload.tenant, outcome: 'dropped' }, payload.spans);
            telemetry.metrics.undelivered.add({ tenant: payload.tenant, reason: 'retries_exhausted' }, payload.spans);
            log.warn('batch dead-lettered after its last attempt', { tenant: payload.tenant, spans: payload.spans });
          }
          message.retry({ delaySeconds: queueRetryDelaySeconds(message.attempts - 1, result.afterMs, Math.random) });
          return;
        }
        const outcome = result.kind === 'delivered' ? 'forwarded' : 'forward_failed';
        telemetry.metrics.spans.add({ tenant: payload.tenant, outcome }, payload.spans);
        if (result.kind === 'failed') {
          const reason = refusedReason(result.status);
          telemetry.metrics.undelivered.add({ tenant: payload.tenant, reason }, payload.spans);
          log.warn('batch refused by the upstream', { tenant: payload.tenant, reason, message: result.reason });
        }
        message.ack();
      };
      // A message this worker did not write (sent from the dashboard or the HTTP API, a shape of another version)
      // cannot be forwarded: it goes, with an error in the log, rather than failing the whole delivery with it.
      const messages = batch.messages.filter((message) => {
        if (isPayload(message.body)) return true;
        log.error('queue message dropped: not a batch of this worker', { id: message.id });
        message.ack();
        return false;
      });
      for (const { items } of exportGroups(messages, (message) => message.body, config.queue.mergeMaxBytes)) {
        const results = await sendMerged(
          items.map((message) => message.body),
          forward,
        );
        items.forEach((message, i) => {
          settle(message, results[i] as ExportResult);
        });
      }
      // The outcomes counted here (forwarded, forward_failed, dropped) reach the collector from the consumer too.
      exportIfDue(serving, ctx);
    },
  };
}

function isPayload(value: unknown): value is UpstreamPayload {
  const payload = value as Partial<UpstreamPayload> | null;
  return (
    typeof payload?.tenant === 'string' &&
    typeof payload.spans === 'number' &&
    (payload.contentType === 'application/x-protobuf' || payload.contentType === 'application/json') &&
    payload.body instanceof Uint8Array
  );
}

export default createWorker();
