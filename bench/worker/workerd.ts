/**
 * CPU per batch of the worker inside workerd: `wrangler dev` runs cloudflare.ts with its bindings emulated
 * (Queue producer and consumer, KV, Rate Limiting), forwarding to the ingest harness's sink; autocannon
 * (from the harness) sends the typical batch; the workerd process's CPU time from /proc, divided by the
 * requests answered, is the CPU per batch — request, queue hand-off and the consumer's forward, plus the
 * local emulation of the Queue, which Cloudflare runs elsewhere.
 *
 *     node bench/worker/workerd.ts <harness dir> [seconds] [connections]
 *
 * Ports 17330–17332 (loopback only). Everything it starts is stopped by PID at the end.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [harness, seconds = '10', connections = '10'] = process.argv.slice(2);
if (!harness) throw new Error('usage: node bench/worker/workerd.ts <harness dir> [seconds] [connections]');
const PORT = 17330;
const SINK_PORT = 17331;
const INSPECTOR_PORT = 17332;
const root = new URL('../../', import.meta.url).pathname;
const { default: autocannon } = await import(join(harness, 'node_modules/autocannon/autocannon.js'));
const benchConfig = readFileSync(new URL('./bench.yaml', import.meta.url), 'utf8');
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString());

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
}

function descendants(pid: number): number[] {
  let listed = '';
  try {
    listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)]).toString();
  } catch {
    return []; // ps exits 1 when there are no children
  }
  const children = listed.trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function commandOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

const started: ChildProcess[] = [];
const stopAll = () => {
  for (const child of started) if (child.pid && child.exitCode === null) child.kill('SIGTERM');
};
process.on('exit', stopAll);

const sink = spawn('taskset', ['-c', '1', process.execPath, join(harness, 'servers/io.mjs'), String(SINK_PORT)], {
  stdio: 'ignore',
});
started.push(sink);
const wrangler = spawn(
  'taskset',
  [
    '-c',
    '0',
    join(root, 'node_modules/.bin/wrangler'),
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(PORT),
    '--inspector-port',
    String(INSPECTOR_PORT),
    '--var',
    `RUMKIT_UPSTREAM_URL:http://127.0.0.1:${SINK_PORT}`,
    '--var',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${…} placeholders, filled by the worker
    `RUMKIT_CONFIG:${benchConfig.replace('${PORT}', String(PORT)).replace('${UPSTREAM}', '${RUMKIT_UPSTREAM_URL}')}`,
  ],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
  },
);
started.push(wrangler);
let output = '';
wrangler.stdout?.on('data', (d) => (output += d));
wrangler.stderr?.on('data', (d) => (output += d));

const deadline = Date.now() + 120_000;
for (;;) {
  try {
    if ((await fetch(`http://127.0.0.1:${PORT}/health`)).ok) break;
  } catch {}
  if (Date.now() > deadline || wrangler.exitCode !== null) throw new Error(`wrangler dev did not start:\n${output}`);
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const workerd = descendants(wrangler.pid as number).find((pid) => commandOf(pid).includes('workerd'));
if (!workerd) throw new Error('no workerd process under wrangler dev');

const body = readFileSync(join(harness, 'payloads/typical.json'));
let sequence = 0;
const load = (duration: number) =>
  autocannon({
    url: `http://127.0.0.1:${PORT}/v1/traces`,
    method: 'POST',
    connections: Number(connections),
    duration,
    body,
    headers: { 'content-type': 'application/json', 'x-rumkit-key': 'bench-key' },
    // One client address per request, so the Rate Limiting binding (100 per 10 s per address) is not
    // what is measured.
    requests: [
      {
        setupRequest: (request: { headers: Record<string, string> }) => {
          request.headers = {
            ...request.headers,
            'cf-connecting-ip': `10.${(sequence >> 16) & 255}.${(sequence >> 8) & 255}.${sequence++ & 255}`,
          };
          return request;
        },
      },
    ],
  });
await load(3); // warm-up
const before = { workerd: cpuSeconds(workerd), wrangler: cpuSeconds(wrangler.pid as number) };
const result = await load(Number(seconds));
await new Promise((resolve) => setTimeout(resolve, 3000)); // let the consumer drain the queue
const used = {
  workerd: cpuSeconds(workerd) - before.workerd,
  wrangler: cpuSeconds(wrangler.pid as number) - before.wrangler,
};
const requests = result.requests.total;
stopAll();

// The same load against the harness's parse baseline (b) — node:http, gunzip, JSON.parse, walk — in
// this same session, for the ratio.
const parse = spawn('taskset', ['-c', '0', process.execPath, join(harness, 'servers/parse.mjs'), String(PORT)], {
  stdio: 'ignore',
});
started.push(parse);
for (let i = 0; i < 100; i++) {
  try {
    await fetch(`http://127.0.0.1:${PORT}/stats`);
    break;
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
const stats = async () =>
  (await (await fetch(`http://127.0.0.1:${PORT}/stats`)).json()) as {
    requests: number;
    cpuUserUs: number;
    cpuSystemUs: number;
  };
await load(3);
const parseBefore = await stats();
await load(Number(seconds));
const parseAfter = await stats();
const parseCpuMs =
  (parseAfter.cpuUserUs + parseAfter.cpuSystemUs - parseBefore.cpuUserUs - parseBefore.cpuSystemUs) /
  1000 /
  (parseAfter.requests - parseBefore.requests);
console.log(
  JSON.stringify(
    {
      requests,
      non2xx: result.non2xx,
      reqPerSecond: result.requests.average,
      p50ms: result.latency.p50,
      p99ms: result.latency.p99,
      workerdCpuMsPerBatch: (used.workerd * 1000) / requests,
      wranglerProxyCpuMsPerBatch: (used.wrangler * 1000) / requests,
      parseBaselineCpuMsPerBatch: parseCpuMs,
      workerdOverParseBaseline: (used.workerd * 1000) / requests / parseCpuMs,
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    },
    null,
    2,
  ),
);
stopAll();
