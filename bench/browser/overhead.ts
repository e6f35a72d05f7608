/**
 * Main-thread time the agent adds, in Debian's Chromium with 4× CPU throttling, against the same page
 * without it. The page is a small app bundled with esbuild like an app would bundle the agent (the default
 * setup: `init()` from `@rumkit/browser`, built package), served from 127.0.0.1 with a receiver standing in
 * for the edge.
 *
 * A third variant, `otel`, has only what the agent cannot do without — the OpenTelemetry tracer provider and
 * `@opentelemetry/instrumentation-fetch`, with a span processor that drops every span — to show how much of
 * the cost is the instrumentation's own.
 *
 * For each run, in a fresh browser context, the variants in rotating order:
 * - startup: time from the first inline script to the app's first line (loading, parsing and running the
 *   agent's first script and `init()`), and the `init()` call alone (performance marks in the page);
 * - main-thread task time (CDP `Performance.getMetrics` `TaskDuration`: wall clock, so it includes the
 *   throttling and whatever else the machine runs meanwhile) for three phases: until `load` (start-up), from
 *   `load` to 2.5 s later (the deferred chunk, the document-load spans, web vitals and their export), and 100
 *   sequential same-origin fetches (with their spans and exports), divided by 100;
 * - long tasks (> 50 ms) observed by the page over the whole run, and the long animation frames (> 50 ms)
 *   in which a script other than the app's own ran (the Long Animation Frames API names each script's file):
 *   those are the long frames the agent took part in, with the agent's script time in the longest of them.
 * Medians over the runs; the difference of medians is the agent's cost.
 *
 *     node_modules/.bin/node bench/browser/overhead.ts [--runs 15]   # build the package first
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { build } from 'esbuild';
import { chromiumLaunchOptions } from '../../playwright.shared.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const PORT = 16320;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const FETCHES = 100;
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;

const APP = `
export function startApp() {
  performance.mark('app-start');
  const list = document.getElementById('list');
  for (let i = 0; i < 200; i++) list.insertAdjacentHTML('beforeend', '<li>item ' + i + '</li>');
  window.runFetches = async (n) => {
    for (let i = 0; i < n; i++) await (await fetch('/api/ping?i=' + i)).text();
  };
  window.appReady = true;
}`;
const WITH_AGENT = `import { init } from '@rumkit/browser';
import { startApp } from './app.js';
performance.mark('init-start');
init({ endpoint: '${ORIGIN}/edge', apiKey: 'pk_bench', serviceName: 'bench-app' });
performance.measure('rumkit-init', 'init-start');
startApp();`;
const WITHOUT_AGENT = `import { startApp } from './app.js';
startApp();`;
const OTEL_FETCH_ONLY = `import { context, propagation, trace } from '@opentelemetry/api';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { StackContextManager, TracerProvider } from '@opentelemetry/sdk-trace';
import { startApp } from './app.js';
performance.mark('init-start');
const provider = new TracerProvider({ spanProcessors: [{ onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} }] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new StackContextManager().enable());
const fetchInstrumentation = new FetchInstrumentation({ enabled: false });
fetchInstrumentation.setTracerProvider(provider);
fetchInstrumentation.enable();
performance.measure('rumkit-init', 'init-start');
startApp();`;

const VARIANTS = { without: WITHOUT_AGENT, otel: OTEL_FETCH_ONLY, with: WITH_AGENT };
type Variant = keyof typeof VARIANTS;
const ORDER = Object.keys(VARIANTS) as Variant[];

interface Sample {
  startupMs: number;
  initMs: number;
  /** Main-thread task time, ms. */
  untilLoad: number;
  afterLoad: number;
  perFetch: number;
  longTasks: number[];
  /** Per long animation frame: milliseconds of script time from files other than the app's and the page's. */
  agentTimeInLongFrames: number[];
}

/** The built files by URL path, and the path of the chunk that holds the app's own code. */
async function bundle(): Promise<{ files: Map<string, Buffer>; appChunk: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rumkit-overhead-'));
  try {
    writeFileSync(path.join(dir, 'app.js'), APP);
    for (const [variant, source] of Object.entries(VARIANTS)) writeFileSync(path.join(dir, `${variant}.js`), source);
    const result = await build({
      entryPoints: ORDER.map((variant) => path.join(dir, `${variant}.js`)),
      bundle: true,
      splitting: true,
      format: 'esm',
      minify: true,
      platform: 'browser',
      target: 'es2020',
      conditions: ['module', 'production'],
      nodePaths: [path.join(root, 'node_modules')],
      outdir: path.join(dir, 'out'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const appChunk = Object.entries(result.metafile.outputs).find(([, o]) =>
      Object.keys(o.inputs).some((i) => i.endsWith('app.js')),
    )?.[0];
    return {
      files: new Map(result.outputFiles.map((f) => [`/${path.basename(f.path)}`, Buffer.from(f.contents)])),
      appChunk: `/${path.basename(appChunk ?? '')}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const page = (entry: string) => `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<script>performance.mark('page-start'); window.longTasks = []; window.longFrames = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.duration > 50) longFrames.push(e.scripts.map((s) => [s.sourceURL, s.duration])); }).observe({ type: 'long-animation-frame', buffered: true });</script>
<script type="module" src="/${entry}.js"></script></head>
<body><h1>Orders</h1><ul id="list"></ul></body></html>`;

async function main() {
  const { files, appChunk } = await bundle();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', ORIGIN);
    const file = files.get(url.pathname);
    if (file) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(file);
    if (url.pathname.slice(1) in VARIANTS) {
      return res.writeHead(200, { 'content-type': 'text/html' }).end(page(url.pathname.slice(1)));
    }
    if (url.pathname === '/api/ping') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (url.pathname.startsWith('/edge/')) {
      req.resume();
      return req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"partialSuccess":{}}'),
      );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(PORT, '127.0.0.1', resolve));
  const browser = await chromium.launch(chromiumLaunchOptions);
  const load = loadavg()[0]?.toFixed(2);
  const samples: Record<Variant, Sample[]> = { without: [], otel: [], with: [] };
  try {
    for (let run = 0; run < runs; run++) {
      // Rotating the order spreads any drift of the machine's load over every variant.
      for (let i = 0; i < ORDER.length; i++) {
        const variant = ORDER[(run + i) % ORDER.length] as Variant;
        samples[variant].push(await measure(browser, variant, appChunk));
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  report(samples, load);
}

async function measure(
  browser: import('@playwright/test').Browser,
  variant: Variant,
  appChunk: string,
): Promise<Sample> {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
  };
  await tab.goto(`${ORIGIN}/${variant}`, { waitUntil: 'load' });
  await tab.waitForFunction(() => 'appReady' in window);
  const atLoad = await read();
  await tab.waitForTimeout(2_500);
  const settled = await read();
  await tab.evaluate((n) => (window as unknown as { runFetches(n: number): Promise<void> }).runFetches(n), FETCHES);
  await tab.waitForTimeout(1_500);
  const fetched = await read();
  const marks = await tab.evaluate(() => {
    const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN;
    const page = window as unknown as { longTasks: number[]; longFrames: Array<Array<[string, number]>> };
    return {
      startupMs: at('app-start') - at('page-start'),
      initMs: performance.getEntriesByName('rumkit-init')[0]?.duration ?? 0,
      longTasks: page.longTasks,
      longFrames: page.longFrames,
    };
  });
  const isAgent = (url: string) =>
    url.startsWith(ORIGIN) && !url.endsWith(appChunk) && new URL(url).pathname !== `/${variant}`;
  const agentTimeInLongFrames = marks.longFrames
    .map((scripts) => scripts.filter(([url]) => isAgent(url)).reduce((sum, [, ms]) => sum + ms, 0))
    .filter((ms) => ms > 0);
  await context.close();
  return {
    startupMs: marks.startupMs,
    initMs: marks.initMs,
    longTasks: marks.longTasks,
    agentTimeInLongFrames,
    untilLoad: atLoad,
    afterLoad: settled - atLoad,
    perFetch: (fetched - settled) / FETCHES,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const quartiles = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 4)]?.toFixed(2)}–${sorted[Math.floor((sorted.length * 3) / 4)]?.toFixed(2)}`;
};

function report(samples: Record<Variant, Sample[]>, load: string | undefined) {
  const row = (what: string, pick: (s: Sample) => number) => {
    const [without, otel, agent] = ORDER.map((v) => samples[v].map(pick));
    const cell = (values: number[] = []) => `${median(values).toFixed(2)} (${quartiles(values)})`;
    const adds = median(agent ?? []) - median(without ?? []);
    return `| ${what} | ${cell(without)} | ${cell(otel)} | ${cell(agent)} | ${adds.toFixed(2)} |`;
  };
  console.log(
    `Chromium, 4× CPU throttling, ${runs} runs per variant, ${cpus().length} cores, load average ${load} at start`,
  );
  console.log(
    '| ms (median, interquartile range) | without agent | OTel fetch instrumentation only | rumkit | rumkit adds |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  console.log(row('task time until `load` (start-up)', (s) => s.untilLoad));
  console.log(row("first inline script to the app's first line (wall clock)", (s) => s.startupMs));
  console.log(row('the `init()` call (wall clock)', (s) => s.initMs));
  console.log(
    row('task time from `load` to 2.5 s later (deferred chunk, document load, web vitals)', (s) => s.afterLoad),
  );
  console.log(row(`task time per fetch (${FETCHES} sequential)`, (s) => s.perFetch));
  const longTasks = (v: Variant) => samples[v].flatMap((s) => s.longTasks);
  const cell = (v: Variant) => `${longTasks(v).length} (${Math.max(0, ...longTasks(v)).toFixed(0)})`;
  console.log(`| long tasks > 50 ms: count over all runs (longest) | ${ORDER.map(cell).join(' | ')} | |`);
  const agentFrames = (v: Variant) => samples[v].flatMap((s) => s.agentTimeInLongFrames);
  const frameCell = (v: Variant) =>
    v === 'without' ? '–' : `${agentFrames(v).length} (${Math.max(0, ...agentFrames(v)).toFixed(0)})`;
  console.log(
    `| long animation frames > 50 ms with agent scripts: count over all runs (most agent script time in one) | ${ORDER.map(frameCell).join(' | ')} | |`,
  );
}

await main();
