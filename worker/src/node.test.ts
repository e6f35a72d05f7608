/**
 * The Node server end to end on loopback: real HTTP in, real OTLP/HTTP out to a receiver, with the
 * official OpenTelemetry JS exporters as the senders.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SPOOL_LOCK_FILE } from './adapter/node/spoolLock.ts';
import { ConfigError, hashKey, parseConfig } from './config.ts';
import { createLogger } from './log.ts';
import { type NodeServer, startNodeServer, YOUNG_GENERATION_FLAG } from './node.ts';
import { startReceiver } from './testing/otlpReceiver.ts';

const KEY = 'pk_node_test_key';
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let server: NodeServer;

beforeAll(async () => {
  receiver = await startReceiver();
  const config = parseConfig({
    server: { port: 0 },
    tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
    upstream: { url: receiver.url, bearerToken: 'collector-secret' },
    limits: { maxBodyBytes: 64 * 1024, maxDecompressedBytes: 256 * 1024 },
    metrics: { exportIntervalSeconds: 0 },
  });
  server = await startNodeServer(
    config,
    createLogger('error', () => {}),
  );
});

afterAll(async () => {
  await server.close();
  await receiver.stop();
});

function recordSpans(count: number, name: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop-web', 'user.email': 'jane@example.com' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('node-test');
  for (let i = 0; i < count; i++)
    tracer.startSpan(`${name} ${i}`, { attributes: { 'url.full': `https://x.example/?token=t${i}` } }).end();
  return memory.getFinishedSpans();
}

function exportWith(exporter: JsonExporter | ProtobufExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

describe('the Node server with the official OpenTelemetry exporters as clients', () => {
  it.each([
    ['http/json', JsonExporter],
    ['http/protobuf', ProtobufExporter],
  ])(
    'takes %s and forwards protobuf with the tenant, the bearer token, and scrubbed values',
    async (protocol, Exporter) => {
      const exporter = new Exporter({ url: `${server.url}/v1/traces`, headers: { 'x-rumkit-key': KEY } });
      const spans = recordSpans(3, protocol);
      expect(await exportWith(exporter, spans)).toMatchObject({ code: ExportResultCode.SUCCESS });
      const ids = spans.map((s) => s.spanContext().spanId);
      await vi.waitFor(() => expect(receiver.spans().map((s) => s.spanId)).toEqual(expect.arrayContaining(ids)));
      const forwarded = receiver.received.find((r) =>
        r.traces?.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((s) => s.spanId === ids[0]))),
      );
      expect(forwarded?.headers).toMatchObject({
        'content-type': 'application/x-protobuf',
        'x-scope-orgid': 'shop',
        authorization: 'Bearer collector-secret',
      });
      const text = JSON.stringify(forwarded?.traces);
      expect(text).not.toContain('jane@example.com');
      expect(text).toContain('token=[Filtered]');
      await exporter.shutdown();
    },
  );

  it('makes the official exporter report failure for a wrong key', async () => {
    const exporter = new JsonExporter({ url: `${server.url}/v1/traces`, headers: { 'x-rumkit-key': 'wrong' } });
    expect(await exportWith(exporter, recordSpans(1, 'wrong key'))).toMatchObject({ code: ExportResultCode.FAILED });
    await exporter.shutdown();
  });
});

describe('body limits on Node', () => {
  /** Streams `chunks` chunks of 4 KiB with chunked transfer encoding until the server answers. */
  function postChunked(headers: Record<string, string>, chunks: number): Promise<{ status: number; written: number }> {
    return new Promise((resolve, reject) => {
      let written = 0;
      const request = http.request(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-rumkit-key': KEY, ...headers },
      });
      request.on('response', (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, written });
        request.destroy();
      });
      request.on('error', (error) => (written > 0 ? undefined : reject(error)));
      const writeMore = () => {
        while (written < chunks) {
          written++;
          if (!request.write(Buffer.alloc(4096, 32))) return void request.once('drain', writeMore);
        }
        request.end();
      };
      writeMore();
    });
  }

  it('answers 413 to a chunked body past the limit before it has all arrived', async () => {
    const { status, written } = await postChunked({}, 10_000); // 40 MiB offered
    expect(status).toBe(413);
    expect(written).toBeLessThan(10_000);
  });

  it('answers 413 to a gzip bomb', async () => {
    const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024, ' ')); // 32 MiB of spaces in ~32 KiB
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const res = await fetch(`${server.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'x-rumkit-key': KEY },
      body: bomb,
    });
    expect(res.status).toBe(413);
  });
});

describe('operations endpoints on Node', () => {
  it('reports the upstream reachable in /health', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(await res.json()).toEqual({ status: 'ok', upstream: { reachable: true, circuit: 'closed' } });
  });

  it('serves the edge metrics at /metrics, with forwarded spans and queue gauges', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/rumkit_edge_spans_total\{tenant="shop",outcome="forwarded"\} [1-9]/);
    expect(text).toContain('rumkit_edge_requests_total{tenant="unknown",outcome="unauthorized"} 1');
    expect(text).toMatch(/rumkit_edge_requests_total\{tenant="shop",outcome="too_large"\} 2/);
    expect(text).toContain('rumkit_edge_queue_depth 0');
    expect(text).toContain('rumkit_edge_upstream_up 1');
    expect(text).toContain('rumkit_edge_circuit_state 0');
    expect(text).toMatch(/rumkit_edge_forward_duration_seconds_count\{tenant="shop"\} [1-9]/);
  });
});

describe('stopping', () => {
  it('cuts connections still open after server.shutdownGraceSeconds and spools what it accepted', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const spoolDir = mkdtempSync(join(tmpdir(), 'rumkit-spool-'));
    const edge = await startNodeServer(
      parseConfig({
        server: { port: 0, shutdownGraceSeconds: 0.3 },
        tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
        upstream: { url: `http://127.0.0.1:${port}`, timeoutMs: 200 },
        queue: { spoolDir },
        metrics: { exportIntervalSeconds: 0 },
      }),
      createLogger('error', () => {}),
    );
    const sockets: Socket[] = [];
    try {
      const result = await exportWith(
        new JsonExporter({ url: `${edge.url}/v1/traces`, headers: { 'x-rumkit-key': KEY } }),
        recordSpans(2, 'held'),
      );
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      const { port: edgePort } = new URL(edge.url);
      // A connection that never sends a request (a preconnect), and an upload that stops halfway.
      for (const start of ['', 'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"resource']) {
        const socket = connect(Number(edgePort), '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.on('error', () => {});
        socket.write(start);
        sockets.push(socket);
      }
      const started = Date.now();
      await edge.close();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(readdirSync(spoolDir).filter((f) => f.endsWith('.pb'))).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});

describe("the upstream's answers in the metrics", () => {
  it('counts the spans a collector refuses for good as undelivered, by the status it answered', async () => {
    const refusing = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401).end());
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as { port: number };
    const edge = await startNodeServer(
      parseConfig({
        server: { port: 0 },
        tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
        upstream: { url: `http://127.0.0.1:${port}` },
        metrics: { exportIntervalSeconds: 0 },
      }),
      createLogger('error', () => {}),
    );
    try {
      const spans = recordSpans(3, 'refused');
      const result = await exportWith(
        new JsonExporter({ url: `${edge.url}/v1/traces`, headers: { 'x-rumkit-key': KEY } }),
        spans,
      );
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      await vi.waitFor(
        async () =>
          expect(await (await fetch(`${edge.url}/metrics`)).text()).toContain(
            'rumkit_edge_spans_undelivered_total{tenant="shop",reason="refused_401"} 3',
          ),
        { timeout: 5_000, interval: 100 },
      );
    } finally {
      await edge.close();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });

  it("sets the upstream gauge to 0 from the periodic metrics export, so an idle worker's falls too", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const idle = await startNodeServer(
      parseConfig({
        server: { port: 0 },
        tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
        upstream: { url: `http://127.0.0.1:${port}`, timeoutMs: 500 },
        metrics: { exportIntervalSeconds: 1 },
      }),
      createLogger('error', () => {}),
    );
    try {
      const gauge = async () =>
        (await (await fetch(`${idle.url}/metrics`)).text()).match(/^rumkit_edge_upstream_up (\d)$/m)?.[1];
      expect(await gauge()).toBe('1');
      await vi.waitFor(async () => expect(await gauge()).toBe('0'), { timeout: 5_000, interval: 200 });
    } finally {
      await idle.close();
    }
  });
});

describe('the client address behind a trusted proxy', () => {
  /**
   * A worker reading X-Forwarded-For, one request per address allowed, and what it answers to requests with the
   * given header from this test (whose own address is 127.0.0.1).
   */
  async function withProxiedWorker(
    server: Record<string, unknown>,
    run: (post: (xff: string) => Promise<number>) => Promise<void>,
  ) {
    const worker = await startNodeServer(
      parseConfig({
        server: { port: 0, clientIpHeader: 'x-forwarded-for', ...server },
        tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
        upstream: { url: receiver.url },
        rateLimit: { perIp: { ratePerSecond: 0.001, burst: 1 } },
        metrics: { exportIntervalSeconds: 0 },
      }),
      createLogger('error', () => {}),
    );
    try {
      await run((forwardedFor) =>
        fetch(`${worker.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-rumkit-key': KEY, 'x-forwarded-for': forwardedFor },
          body: '{"resourceSpans":[]}',
        }).then((res) => res.status),
      );
    } finally {
      await worker.close();
    }
  }

  it('counts the X-Forwarded-For entry the trusted proxy wrote, not what the client wrote left of it', () =>
    withProxiedWorker({}, async (post) => {
      expect(await post('203.0.113.9, 198.51.100.1')).toBe(200);
      // A new spoofed address on the left does not buy the same client a fresh bucket.
      expect(await post('203.0.113.10, 198.51.100.1')).toBe(429);
      expect(await post('198.51.100.2')).toBe(200);
    }));

  it('reads past the entries of trusted proxies in a chain (a CDN in front of the local proxy) to the client', () =>
    withProxiedWorker({ trustedProxies: ['127.0.0.1', '203.0.113.0/24'] }, async (post) => {
      expect(await post('198.51.100.1, 203.0.113.5')).toBe(200);
      // The same client through another of the CDN's addresses, and with a spoofed entry: its own bucket.
      expect(await post('192.0.2.77, 198.51.100.1, 203.0.113.6')).toBe(429);
      expect(await post('198.51.100.2, 203.0.113.5')).toBe(200);
    }));

  it('ignores the header from a peer that is not one of server.trustedProxies', () =>
    withProxiedWorker({ trustedProxies: ['10.0.0.0/8'] }, async (post) => {
      expect(await post('198.51.100.1')).toBe(200);
      // Whatever it writes there, this client is its own address, 127.0.0.1, whose bucket is empty.
      expect(await post('198.51.100.2')).toBe(429);
    }));
});

const entry = fileURLToPath(new URL('./node.ts', import.meta.url));
// Type stripping is the default from Node 22.18 on; CI also runs these tests on 22.12.
const cliArgs = ['--experimental-strip-types', '--conditions=rumkit-source', entry];

/** Runs the `rumkit-edge` command from source until it exits (or is killed after `timeoutMs`). */
function runCli(env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      cliArgs,
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

/** Starts the `rumkit-edge` command from source on a free port; resolves once it listens, with its URL. */
async function startCli(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, cliArgs, { env: { ...process.env, PORT: '0', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  await vi.waitFor(() => expect(output).toContain('"listening"'), { timeout: 10_000, interval: 50 });
  return { child, url: /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1] as string };
}

describe('the rumkit-edge command', () => {
  it.runIf(process.execve && process.platform === 'linux')(
    'restarts itself, same process, with the young generation capped before it serves',
    async () => {
      const { child } = await startCli({ RUMKIT_API_KEY: KEY, RUMKIT_UPSTREAM_URL: receiver.url, NODE_OPTIONS: '' });
      try {
        const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        expect(commandLine.slice(0, 2)).toEqual([process.execPath, YOUNG_GENERATION_FLAG]);
        expect(commandLine.slice(2)).toEqual(expect.arrayContaining(cliArgs));
      } finally {
        child.kill('SIGTERM');
      }
    },
    15_000,
  );
});

describe('the rumkit-edge command stopping', () => {
  it('writes what it holds to its spool as soon as SIGTERM comes, and a second signal does not cut its stop short', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'rumkit-cli-spool-'));
    // A collector that takes the export and never answers: the batch stays in flight, in memory.
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { child, url } = await startCli({
      RUMKIT_API_KEY: KEY,
      RUMKIT_UPSTREAM_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      RUMKIT_SPOOL_DIR: spoolDir,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const exporter = new JsonExporter({ url: `${url}/v1/traces`, headers: { 'x-rumkit-key': KEY } });
      expect(await exportWith(exporter, recordSpans(2, 'held'))).toMatchObject({ code: ExportResultCode.SUCCESS });
      const batches = () => readdirSync(spoolDir).filter((f) => f !== SPOOL_LOCK_FILE);
      expect(batches()).toEqual([]);

      child.kill('SIGTERM');
      // At once, not after the wait for the export in flight (5 s).
      await vi.waitFor(() => expect(batches()).toHaveLength(1), { timeout: 2_000, interval: 20 });
      child.kill('SIGTERM');
      child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(child.exitCode).toBeNull();
      expect(await exited).toBe(0);
      expect(batches()).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
      rmSync(spoolDir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('one spool directory per worker', () => {
  it('lets go of its spool when its port is taken, so that it can start again at once', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'rumkit-node-spool-'));
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const config = (port: number) =>
      parseConfig({
        server: { port },
        tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
        upstream: { url: receiver.url },
        queue: { spoolDir },
        metrics: { exportIntervalSeconds: 0 },
      });
    try {
      const { port } = taken.address() as AddressInfo;
      await expect(
        startNodeServer(
          config(port),
          createLogger('error', () => {}),
        ),
      ).rejects.toThrow('EADDRINUSE');
      const retried = await startNodeServer(
        config(0),
        createLogger('error', () => {}),
      );
      await retried.close();
    } finally {
      taken.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });

  it('refuses to forward to its own address, where a local collector usually listens', async () => {
    const config = (server: Record<string, unknown>, url: string) =>
      parseConfig({
        server,
        tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
        upstream: { url },
        metrics: { exportIntervalSeconds: 0 },
      });
    for (const [server, url] of [
      [{}, 'http://127.0.0.1:4318'],
      [{}, 'http://localhost:4318/'],
      [{ host: '0.0.0.0', port: 8080 }, 'http://[::1]:8080'],
      [{ host: '10.0.0.5', port: 80 }, 'http://10.0.0.5'],
      [{}, 'http://0.0.0.0:4318'],
      [{ host: '0.0.0.0' }, 'http://127.0.0.2:4318'],
      [{ host: '::' }, 'http://[::]:4318'],
    ] as const) {
      await expect(
        startNodeServer(
          config(server, url),
          createLogger('error', () => {}),
        ),
      ).rejects.toThrow(
        /^upstream\.url .* is this worker's own address \(server\.port \d+\): give the worker another port/,
      );
    }
    const cli = await runCli({ RUMKIT_API_KEY: KEY, RUMKIT_UPSTREAM_URL: 'http://127.0.0.1:4318' }, 10_000);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("rumkit-edge: upstream.url http://127.0.0.1:4318 is this worker's own address");
    // Another address with the same port is a collector elsewhere.
    const { hostname, port } = new URL(receiver.url);
    expect(hostname).toBe('127.0.0.1');
    const elsewhere = await startNodeServer(
      config({ host: '127.0.0.2', port: Number(port) }, receiver.url),
      createLogger('error', () => {}),
    );
    await elsewhere.close();
  }, 15_000);

  it('refuses to start a second worker on the spool of a running one, with the message a bad configuration gets', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'rumkit-node-spool-'));
    const config = parseConfig({
      server: { port: 0 },
      tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey(KEY) }] }],
      upstream: { url: receiver.url },
      queue: { spoolDir },
      metrics: { exportIntervalSeconds: 0 },
    });
    const first = await startNodeServer(
      config,
      createLogger('error', () => {}),
    );
    try {
      await expect(
        startNodeServer(
          config,
          createLogger('error', () => {}),
        ),
      ).rejects.toThrow(ConfigError);
      // Another process watches the lock for the first worker's heartbeat (every 10 s), here sped up.
      const lock = join(spoolDir, SPOOL_LOCK_FILE);
      const heartbeat = setInterval(() => utimesSync(lock, new Date(), new Date()), 200);
      const second = await runCli(
        { RUMKIT_API_KEY: KEY, RUMKIT_UPSTREAM_URL: receiver.url, RUMKIT_SPOOL_DIR: spoolDir, PORT: '0' },
        10_000,
      ).finally(() => clearInterval(heartbeat));
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`rumkit-edge: queue.spoolDir ${spoolDir} is in use by pid ${process.pid} on `);
    } finally {
      await first.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  }, 15_000);
});
