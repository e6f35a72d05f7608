/**
 * Added latency below saturation: the same open-loop request rate (a request every 1/rate s, whatever
 * the answers do, one connection per request; each response time taken with hrtime) against the
 * harness's bare node:http server (a), which only reads the body, and against the worker; the worker's
 * added latency is its p50/p99 minus (a)'s at that rate. Servers pinned to CPU 0, load and sink to CPU 1.
 *
 *     node bench/worker/latency.ts <harness dir> <rate,rate,…> [seconds]
 *
 * Ports 17340–17341, loopback only; everything it starts is stopped by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const [harness, rates = '100,200', seconds = '10'] = process.argv.slice(2);
if (!harness) throw new Error('usage: node bench/worker/latency.ts <harness dir> <rate,rate,…> [seconds]');
const root = new URL('../../', import.meta.url).pathname;
const body = readFileSync(join(harness, 'payloads/typical.json'));
const SERVER_PORT = 17340;
const SINK_PORT = 17341;

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

function start(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn('taskset', args, { stdio: 'ignore', env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/health`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`nothing answers on ${port}`);
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

function post(agent: http.Agent): Promise<{ ms: number; status: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: SERVER_PORT,
        path: '/v1/traces',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'x-rumkit-key': 'bench-key', 'content-length': body.byteLength },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, status: response.statusCode ?? 0 }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** One server's latency at `rate`. */
async function measure(rate: number) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: 64 });
  const count = Math.round(rate * Number(seconds));
  const pending: Array<Promise<{ ms: number; status: number }>> = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(post(agent));
  }
  const results = await Promise.all(pending);
  agent.destroy();
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return {
    rate,
    reqPerSecond: count / ((performance.now() - start) / 1000),
    non2xx: results.filter((r) => r.status !== 200).length,
    p50: at(0.5),
    p99: at(0.99),
  };
}

const f = (ms: number) => ms.toFixed(2);

const sink = start(['-c', '1', process.execPath, join(harness, 'servers/io.mjs'), String(SINK_PORT)]);
const rows: string[] = [];
for (const rate of rates.split(',').map(Number)) {
  const io = start(['-c', '0', process.execPath, join(harness, 'servers/io.mjs'), String(SERVER_PORT)]);
  await ready(SERVER_PORT);
  await measure(rate); // warm-up
  const baseline = await measure(rate);
  await stop(io);
  const worker = start(
    ['-c', '0', process.execPath, join(root, 'worker/dist/node.js'), '--config', join(root, 'bench/worker/bench.yaml')],
    {
      PORT: String(SERVER_PORT),
      UPSTREAM: `http://127.0.0.1:${SINK_PORT}`,
    },
  );
  await ready(SERVER_PORT);
  await measure(rate);
  const edge = await measure(rate);
  await stop(worker);
  rows.push(
    `| ${rate} | ${f(baseline.p50)} / ${f(baseline.p99)} | ${f(edge.p50)} / ${f(edge.p99)} | ${f(edge.p50 - baseline.p50)} / ${f(edge.p99 - baseline.p99)} | ${edge.reqPerSecond.toFixed(0)} | ${edge.non2xx} |`,
  );
}
await stop(sink);
console.log(`loadavg at end: ${readFileSync('/proc/loadavg', 'utf8').trim()}\n`);
console.log(
  '| req/s offered | (a) io p50 / p99 ms | worker p50 / p99 ms | added p50 / p99 ms | worker req/s | worker non-2xx |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
