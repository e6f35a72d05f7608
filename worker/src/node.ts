#!/usr/bin/env node
/**
 * The edge worker on Node.
 *
 *     rumkit-edge --config rumkit.yaml      # the configuration file (YAML or JSON), ${VARS} substituted
 *     rumkit-edge                           # one key from RUMKIT_API_KEY, RUMKIT_ALLOWED_ORIGINS, RUMKIT_UPSTREAM_URL
 *     rumkit-edge hash-key <key>            # the keyHash to put in the configuration
 *
 * Only runtime glue lives here: the configuration source, the HTTP server (@hono/node-server), the
 * forward queue with its disk spool, the keep-alive HTTP transport, the periodic OTLP metrics export,
 * `/metrics`, and a graceful stop on SIGTERM/SIGINT that spools whatever is still queued (or, without a
 * spool, sends it for a few seconds and counts the rest as dropped).
 */
import { readFileSync, realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type HttpBindings, serve } from '@hono/node-server';
import { ForwardQueue } from './adapter/node/forwardQueue.ts';
import { createHttpTransport } from './adapter/node/httpTransport.ts';
import { requestBody } from './adapter/node/requestBody.ts';
import { createApp } from './app.ts';
import { ConfigError, configFromEnv, type EdgeConfig, hashKey, parseConfig, readConfigText } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { CIRCUIT_STATE_VALUES, type ExportResult, forwardWithRetry, TenantBreakers } from './pipeline/forward.ts';
import { reject } from './pipeline/rejection.ts';
import { registerForwardGauges } from './telemetry/edgeMetrics.ts';
import { createTelemetry, exportMetrics } from './telemetry/telemetry.ts';
import { clientAddress, trustedPeers } from './trustedPeers.ts';

/** Geography from a proxy is a country or region name or code; anything longer is not one. */
const GEO_HEADER_MAX_LENGTH = 64;
/**
 * A stop's time budget beyond the requests' grace. With a spool, exports in flight get this long from the signal
 * (they have been running through the grace period too), and the last metrics export at most
 * STOP_METRICS_TIMEOUT_MS, so that a stop with the default grace ends within Docker's 10 s (it kills the process
 * after that; the spool holds everything from the signal on, but a killed worker leaves its lock, and the next start
 * waits 20–30 s for it). Without a spool, sending is all the queue can do: it gets this long after the grace.
 */
const STOP_EXPORT_WAIT_MS = 5_000;
const STOP_METRICS_TIMEOUT_MS = 2_000;
const isLoopback = trustedPeers(['127.0.0.0/8', '::1']);

export interface NodeServer {
  /** `http://host:port` the server listens on. */
  url: string;
  queue: ForwardQueue;
  close(): Promise<void>;
}

/** Reads `--config <file>` (YAML or JSON), or else the single-key environment variables. */
export function loadConfig(argv: readonly string[], env: Record<string, string | undefined>): EdgeConfig {
  const at = argv.indexOf('--config');
  if (at === -1) return configFromEnv(env);
  const file = argv[at + 1];
  if (!file) throw new ConfigError('--config needs a file name');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--config ${file}: ${(error as Error).message}`);
  }
  return parseConfig(readConfigText(text, file), env);
}

export async function startNodeServer(
  config: EdgeConfig,
  log: Logger = createLogger(config.log.level),
): Promise<NodeServer> {
  refuseForwardingToItself(config);
  const telemetry = createTelemetry(config, Date.now());
  const { metrics } = telemetry;
  const transport = createHttpTransport();
  const breakers = new TenantBreakers(config.upstream.circuitBreaker);
  const fromProxy = trustedPeers(config.server.trustedProxies);
  let upstreamUp = 1;
  // Every answer of the collector says whether it is up, the periodic metrics export's too: an idle worker
  // sends no spans, and its gauge must still fall when the collector does.
  const noteUpstream = (result: ExportResult) => {
    upstreamUp = result.kind === 'retry' ? 0 : 1;
  };
  // One tenant has the whole queue; of two or more, none may hold more than its share.
  const queueOptions = { ...config.queue, maxTenantShare: config.tenants.length > 1 ? config.queue.maxTenantShare : 1 };
  const queue = await ForwardQueue.open(queueOptions, {
    now: Date.now,
    onLockWait: (message) => log.warn(message),
    onLockLost: (message) => log.error(message),
    onSpoolError: (message) => log.error(message),
    send: async (payload) => {
      const result = await forwardWithRetry(
        payload,
        {
          transport,
          breaker: breakers.of(payload.tenant),
          now: Date.now,
          random: Math.random,
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
          onAttempt: (seconds) => metrics.forwardDuration.observe({ tenant: payload.tenant }, seconds),
        },
        config.upstream,
      );
      noteUpstream(result);
      return result;
    },
    onDone: (payload, outcome, why) => {
      metrics.spans.add({ tenant: payload.tenant, outcome }, payload.spans);
      if (!why) return;
      metrics.undelivered.add({ tenant: payload.tenant, reason: why.reason }, payload.spans);
      log.warn('batch not delivered', {
        tenant: payload.tenant,
        outcome,
        reason: why.reason,
        message: why.message,
        spans: payload.spans,
      });
    },
  }).catch((error: unknown) => {
    transport.close();
    throw error;
  });
  registerForwardGauges(telemetry.registry, {
    queueDepth: () => queue.depth,
    queueBytes: () => queue.bytes,
    upstreamUp: () => upstreamUp,
    circuitState: () => CIRCUIT_STATE_VALUES[breakers.state(Date.now())],
  });

  const app = createApp(
    config,
    {
      async deliver(payloads) {
        for (const payload of payloads) {
          if (!queue.enqueue(payload)) return reject('queue_overflow', 'the forward queue is full; retry later', 5);
        }
        return undefined;
      },
      hasCapacity: (tenant) => queue.hasCapacity(tenant),
      maxPayloadBytes: Number.POSITIVE_INFINITY,
      requestBody: (c) => requestBody((c.env as HttpBindings).incoming),
      client(c) {
        const peer = (c.env as HttpBindings).incoming.socket.remoteAddress;
        // What the request's headers say counts only when a proxy of ours sent it.
        const header = (name: string | undefined) => (name && fromProxy(peer) ? c.req.header(name) : undefined);
        const list = header(config.server.clientIpHeader);
        const forwarded = list === undefined ? undefined : clientAddress(list, fromProxy);
        const { geoHeaders } = config.enrich;
        const geo = {
          country: header(geoHeaders.country)?.slice(0, GEO_HEADER_MAX_LENGTH),
          region: header(geoHeaders.region)?.slice(0, GEO_HEADER_MAX_LENGTH),
        };
        return { ip: forwarded ?? peer, geo };
      },
      upstreamHealth: async () => ({
        reachable: await probe(config.upstream.url, 1000),
        circuit: breakers.state(Date.now()),
      }),
      metricsRoute: true,
    },
    telemetry,
    log,
  );

  const exportTimer =
    config.metrics.exportIntervalSeconds > 0
      ? setInterval(() => {
          exportMetrics(telemetry, transport, config.upstream, Date.now()).then(
            (result) => {
              noteUpstream(result);
              if (result.kind !== 'delivered') log.warn('metrics export failed', { reason: result.reason });
            },
            // A bug of ours, not the upstream's state: logged, and the worker goes on.
            (error: unknown) => log.error('metrics export failed', { reason: String(error) }),
          );
        }, config.metrics.exportIntervalSeconds * 1000)
      : undefined;
  exportTimer?.unref();

  const server = serve({ fetch: app.fetch, port: config.server.port, hostname: config.server.host });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  } catch (error) {
    // The port taken: what was opened lets go, the spool's lock first, so that a retry in this process may start.
    clearInterval(exportTimer);
    await queue.close(0);
    transport.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.server.host}:${port}`;
  log.info('listening', { url, upstream: config.upstream.url, tenants: config.tenants.length });
  if (!config.server.metricsToken && config.server.host !== 'localhost' && !isLoopback(config.server.host)) {
    log.warn('/metrics answers anyone who reaches this port: set server.metricsToken', { host: config.server.host });
  }
  return {
    url,
    queue,
    async close() {
      const stopping = Date.now();
      clearInterval(exportTimer);
      // Before the grace period: what the queue holds is on disk at once, whatever cuts the stop short.
      queue.holdOnDisk();
      // `close()` waits for every connection to end, which a slow upload or a browser's idle preconnect may never
      // do: past the grace period they are cut, their requests unanswered and so not accepted.
      const http = server as Server;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      const cut = setTimeout(() => http.closeAllConnections(), config.server.shutdownGraceSeconds * 1000);
      await closed;
      clearTimeout(cut);
      await queue.close(
        config.queue.spoolDir ? Math.max(0, STOP_EXPORT_WAIT_MS - (Date.now() - stopping)) : STOP_EXPORT_WAIT_MS,
      );
      if (config.metrics.exportIntervalSeconds > 0) {
        const upstream = {
          ...config.upstream,
          timeoutMs: Math.min(config.upstream.timeoutMs, STOP_METRICS_TIMEOUT_MS),
        };
        await exportMetrics(telemetry, transport, upstream, Date.now()).catch((error: unknown) =>
          log.error('metrics export failed', { reason: String(error) }),
        );
      }
      transport.close();
    },
  };
}

/** Whether anything answers HTTP at `url` within the timeout (any status counts: it is up). */
async function probe(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * The young generation capped at 8 MB a half. Each batch leaves about 1 MB of short-lived objects, and with Node 24's
 * larger default V8 fell into a full mark-compact every 300 ms under steady load, which took the added p99 from +1 to
 * +9 ms at 200 req/s and to +16–18 ms at 400; 16 MB still left +5 to +14 ms at 400 (bench/worker/RESULTS.md).
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=8';

/**
 * Restarts this process in place (same PID) with `YOUNG_GENERATION_FLAG`, which V8 reads only at start-up, unless the
 * command line or NODE_OPTIONS sets the size already. `process.execve` is Node ≥ 22.15 and not on Windows; elsewhere
 * the worker runs with Node's default.
 */
function restartWithNodeFlags(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(' ')];
  if (given.some((flag) => flag.startsWith('--max-semi-space-size')) || !process.execve) return;
  try {
    process.execve(process.execPath, [
      process.execPath,
      YOUNG_GENERATION_FLAG,
      ...process.execArgv,
      ...process.argv.slice(1),
    ]);
  } catch {
    // execve(2) refused (newer Nodes throw rather than abort): this process serves, with Node's default.
  }
}

/**
 * The worker listens on 4318 by default, the collector's OTLP/HTTP port: run beside a local collector without a
 * port of its own, it was told to forward to itself, and every export, which carries no ingest key, came back 401.
 */
function refuseForwardingToItself({ server, upstream }: EdgeConfig): void {
  const url = new URL(upstream.url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const anyAddress = (name: string) => ['0.0.0.0', '::', ''].includes(name);
  // Where a connection to `name` lands on this machine: 0.0.0.0 and :: reach the loopback address.
  const reaches = (name: string) => (name === 'localhost' || anyAddress(name) ? ['127.0.0.1', '::1'] : [name]);
  // A server on any address is reached through every loopback address; on one address, through that one.
  const served = (name: string) =>
    anyAddress(server.host) ? /^127\.|^::1$/.test(name) : reaches(server.host).includes(name);
  if (port === server.port && reaches(host).some(served)) {
    throw new ConfigError(
      `upstream.url ${upstream.url} is this worker's own address (server.port ${server.port}): give the worker another port (server.port, or PORT)`,
    );
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hash-key') {
    if (!argv[1]) throw new ConfigError('usage: rumkit-edge hash-key <key>');
    console.log(hashKey(argv[1]));
    return;
  }
  restartWithNodeFlags();
  const config = loadConfig(argv, process.env);
  const server = await startNodeServer(config);
  let stopping = false;
  const stop = () => {
    // A second signal (an impatient Ctrl-C, a supervisor repeating SIGTERM) must not end the process with Node's
    // default while the first one's stop writes the queue to disk.
    if (stopping) return;
    stopping = true;
    server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// `import.meta.main` is Node ≥ 24.2; the realpath check covers older Nodes and the npm bin symlink.
if (import.meta.main ?? (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url))) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`rumkit-edge: ${error.message}`);
    process.exit(1);
  });
}
