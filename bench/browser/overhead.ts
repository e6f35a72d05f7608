/**
 * Main-thread time the agent adds, in Debian's Chromium, against the same page without it. The page is a small
 * app bundled with esbuild like an app would bundle the agent (the default setup: `init()` from
 * `@rumkit/browser`, built package), served from 127.0.0.1 with a receiver standing in for the edge.
 *
 * Two variants load the script-tag build instead (`dist/rumkit.iife.js` from a `<script>` with `data-*`
 * attributes, before the app's module): as shipped, and without the V8 compile hint on its first line.
 *
 * Another variant, `otel`, has only what the agent cannot do without — the OpenTelemetry tracer provider and
 * `@opentelemetry/instrumentation-fetch`, with a span processor that drops every span — to show how much of
 * the cost is the instrumentation's own.
 *
 * Five passes, each loading every variant in a fresh browser context, in rotating order:
 *
 * 1. `throttled` — the issue's measure: 4× CPU throttling (CDP `Emulation.setCPUThrottlingRate`), main-thread
 *    task time (CDP `Performance.getMetrics` `TaskDuration`) until `load`, from `load` to 2.5 s later (the
 *    deferred chunk, document load, web vitals, their export), and for 100 sequential same-origin fetches
 *    (with their spans and exports) divided by 100; the time from the first inline script to the app's first
 *    line and the `init()` call (performance marks); long tasks (> 50 ms) the page observed. Task time is wall
 *    clock: whatever else the machine runs meanwhile inflates it.
 * 2. `cpu` — the same phases without throttling, as main-thread CPU time (`ThreadTime`), which other processes
 *    on the machine barely inflate (throttling cannot be combined with it: Chromium throttles by spinning the
 *    thread, idle or not). 4× throttling makes each of these milliseconds about four.
 * 3. `attribution` — which long tasks the agent causes. A Chromium trace of each load at 4× throttling, with
 *    the V8 sampling profiler (100 µs): every main-thread task over 50 ms (`--long-task-ms`), and the time in
 *    it that samples put in the agent's code (the scripts other than the app's chunk and the page; native
 *    functions count for the script that called them, garbage collection for nobody). A task is caused by the
 *    agent when it would be that long or shorter without that time. The Long Animation Frames API cannot tell
 *    this: it names the script whose task started the frame, and the agent and the app evaluate as one module
 *    graph.
 * 4. `breakdown` — where the time per fetch goes, without throttling: the V8 sampling profiler (50 µs) over the
 *    fetches of one load per module variant, built once more without minifying, the agent from its sources, so
 *    that each sample's position names the module it is in (esbuild marks each module's code with its path). Self time per fetch by package
 *    (the agent's by source file); a native function (fetch, URL, timers) is a row of its own.
 *
 * 5. `init` — start-up alone, at 4× throttling: the `init()` call of a module page, and the script tag's own
 *    `<script>` (its download from loopback, evaluation and `init()`), in `--runs` browser contexts per variant,
 *    each visiting the page three times: the first visit, and returning ones, whose scripts come from the HTTP
 *    cache with the code V8 compiled for them. Each load ends once the page has loaded: many more loads than the
 *    first pass affords, for a figure that moves by a few milliseconds from load to load.
 *
 * With `--compare <dir>/index.js`, another build of the agent runs in every pass beside this one: its module
 * variant, and the script tag from the same directory.
 *
 * Medians (and interquartile ranges) over the runs; the difference of medians is the agent's cost.
 *
 *     npm run build --workspace @rumkit/browser
 *     node_modules/.bin/node bench/browser/overhead.ts [--runs 15] [--traces 5] [--compare $BEFORE/index.js]
 *       [--long-task-ms 50] [--only throttled|cpu|attribution|breakdown|init]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type CDPSession, chromium, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { packagePlugins } from '../../packages/browser/scripts/build.ts';
import { harness } from '../../packages/browser/scripts/harness.ts';
import { chromiumLaunchOptions } from '../../playwright.shared.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const PORT = 16320;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const FETCHES = 100;
const THROTTLING = 4;
/** One sampled load is noisy at 100 fetches: the breakdown takes more per load, and BREAKDOWN_LOADS loads. */
const BREAKDOWN_FETCHES = 500;
const BREAKDOWN_LOADS = 3;
/**
 * Visits of a page in one browser context for the `init` pass: the first, and returning ones. Chromium keeps
 * V8's compiled code for a script it loaded before from its HTTP cache (a classic script's from the third load).
 */
const VISITS = 3;
const option = (name: string) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;
const runs = Number(option('--runs')) || 15;
const traces = Number(option('--traces')) || 5;
const only = option('--only');
/** Another build of the agent (its `dist/index.js`), measured as a fourth variant in the same runs. */
const compare = option('--compare');
/**
 * A long task, for the attribution pass: the Long Tasks API's 50 ms, or less (`--long-task-ms 30`) to see the
 * agent's tasks that come close to it.
 */
const LONG_TASK_MS = Number(option('--long-task-ms')) || 50;

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
const withAgent = (from: string) => `import { init } from '${from}';
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

type Variant = 'without' | 'otel' | 'with' | 'script' | 'scriptNoHint' | 'compare' | 'compareScript';
/** The module each page runs; the script-tag pages run the app alone, after the agent's own `<script>`. */
const VARIANTS: Partial<Record<Variant, string>> = {
  without: WITHOUT_AGENT,
  otel: OTEL_FETCH_ONLY,
  with: withAgent('@rumkit/browser'),
  script: WITHOUT_AGENT,
  scriptNoHint: WITHOUT_AGENT,
  ...(compare ? { compare: withAgent(path.resolve(compare)), compareScript: WITHOUT_AGENT } : {}),
};
const scriptTagOf = (dir: string) =>
  new Map(['rumkit.iife.js', 'rumkit.deferred.js'].map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]));
const SCRIPT_TAG = scriptTagOf(path.join(root, 'packages/browser/dist'));
const COMPILE_HINT = '//# allFunctionsCalledOnLoad\n';
if (!SCRIPT_TAG.get('rumkit.iife.js')?.startsWith(COMPILE_HINT)) throw new Error('rumkit.iife.js has no compile hint');
/**
 * Where each script-tag variant's files are served: the build as shipped, the same without its first line (V8's
 * compile hint), and the compared build's script tag (from the directory of `--compare`).
 */
const SCRIPT_TAGS: Partial<Record<Variant, { prefix: string; files: Map<string, string> }>> = {
  script: { prefix: '/', files: SCRIPT_TAG },
  scriptNoHint: {
    prefix: '/no-hint/',
    files: new Map([...SCRIPT_TAG].map(([name, source]) => [name, source.replace(COMPILE_HINT, '')])),
  },
  ...(compare
    ? { compareScript: { prefix: '/compare/', files: scriptTagOf(path.dirname(path.resolve(compare))) } }
    : {}),
};
const ORDER = Object.keys(VARIANTS) as Variant[];
const LABELS: Record<Variant, string> = {
  without: 'without agent',
  otel: 'OTel fetch instrumentation only',
  with: 'rumkit',
  script: 'rumkit, script tag',
  scriptNoHint: 'rumkit, script tag without the compile hint',
  compare: `rumkit from ${compare}`,
  compareScript: `rumkit, script tag from ${compare && path.dirname(compare)}`,
};

/** One load of one variant: milliseconds. */
interface Sample {
  startupMs: number;
  initMs: number;
  untilLoad: number;
  afterLoad: number;
  perFetch: number;
  longTasks: number[];
}

/** A main-thread task over LONG_TASK_MS in a trace, and the part of it the samples put in agent code. */
interface LongTask {
  ms: number;
  agentMs: number;
  beforeLoad: boolean;
  /** The agent's functions that took most of its time in the task: `name file:line:column ms`. */
  agentTop: string[];
}

/** The built files by URL path (under `prefix`), and the path of the chunk that holds the app's own code. */
async function bundle(minify = true, prefix = '/'): Promise<{ files: Map<string, Buffer>; appChunk: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rumkit-overhead-'));
  try {
    writeFileSync(path.join(dir, 'app.js'), APP);
    const modules = ORDER.filter((variant) => !SCRIPT_TAG_VARIANTS.includes(variant));
    for (const variant of modules) writeFileSync(path.join(dir, `${variant}.js`), VARIANTS[variant] as string);
    const result = await build({
      ...harness,
      // Unminified, the agent from its sources, with the plugins of its package build applied to OpenTelemetry's
      // modules (the no-op metrics and logs) in every variant, so that each module's code keeps its path.
      ...(minify ? {} : { minify, conditions: ['rumkit-source', ...harness.conditions], plugins: packagePlugins() }),
      entryPoints: modules.map((variant) => path.join(dir, `${variant}.js`)),
      splitting: true,
      nodePaths: [path.join(root, 'node_modules')],
      outdir: path.join(dir, 'out'),
    });
    const appChunk = Object.entries(result.metafile.outputs).find(([, o]) =>
      Object.keys(o.inputs).some((i) => i.endsWith('app.js')),
    )?.[0];
    return {
      files: new Map(result.outputFiles.map((f) => [`${prefix}${path.basename(f.path)}`, Buffer.from(f.contents)])),
      appChunk: `${prefix}${path.basename(appChunk ?? '')}`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SCRIPT_TAG_VARIANTS = Object.keys(SCRIPT_TAGS) as Variant[];
/** Cacheable, as a CDN serves them: the other passes load each page in a fresh context, which has no cache. */
const SCRIPT_HEADERS = { 'content-type': 'text/javascript', 'cache-control': 'public, max-age=3600' };
/** Where the unminified build of the module variants is served, for the breakdown pass. */
const PLAIN = '/plain/';
/**
 * A script-tag page times the agent's tag (its download from loopback included, as its `init()` runs inside)
 * where a module page times the `init()` call.
 */
const page = (variant: Variant, prefix = '/') => `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<script>performance.mark('page-start'); window.longTasks = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });</script>
${
  SCRIPT_TAG_VARIANTS.includes(variant)
    ? `<script>performance.mark('init-start')</script>
<script src="${SCRIPT_TAGS[variant]?.prefix}rumkit.iife.js" data-endpoint="${ORIGIN}/edge" data-api-key="pk_bench" data-service-name="bench-app"></script>
<script>performance.measure('rumkit-init', 'init-start')</script>
<script type="module" src="/without.js"></script>`
    : `<script type="module" src="${prefix}${variant}.js"></script>`
}</head>
<body><h1>Orders</h1><ul id="list"></ul></body></html>`;

async function main() {
  const { files, appChunk } = await bundle();
  const plain = only === 'breakdown' || !only ? (await bundle(false, PLAIN)).files : new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', ORIGIN);
    const file = files.get(url.pathname) ?? plain.get(url.pathname);
    if (file) return res.writeHead(200, SCRIPT_HEADERS).end(file);
    const slash = url.pathname.lastIndexOf('/') + 1;
    const scriptTag = Object.values(SCRIPT_TAGS)
      .find(({ prefix }) => prefix === url.pathname.slice(0, slash))
      ?.files.get(url.pathname.slice(slash));
    if (scriptTag) return res.writeHead(200, SCRIPT_HEADERS).end(scriptTag);
    if (url.pathname.slice(1) in VARIANTS) {
      return res.writeHead(200, { 'content-type': 'text/html' }).end(page(url.pathname.slice(1) as Variant));
    }
    if (url.pathname.slice(PLAIN.length) in VARIANTS) {
      return res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(page(url.pathname.slice(PLAIN.length) as Variant, PLAIN));
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
  const isAgent = (url: string) =>
    url.startsWith(ORIGIN) &&
    !url.endsWith(appChunk) &&
    !url.endsWith('/without.js') &&
    !(new URL(url).pathname.slice(1) in VARIANTS);
  console.log(`Chromium, ${cpus().length} cores; ${runs} runs per variant; Node ${process.version}`);
  try {
    if (!only || only === 'throttled') {
      const samples = await rotate(runs, (variant) => measure(browser, variant, THROTTLING, 'TaskDuration'));
      report(`${THROTTLING}× CPU throttling, main-thread task time (wall clock)`, samples, true);
    }
    if (!only || only === 'cpu') {
      const samples = await rotate(runs, (variant) => measure(browser, variant, 1, 'ThreadTime'));
      report('no throttling, main-thread CPU time', samples, false);
    }
    if (!only || only === 'attribution') {
      const tasks = await rotate(traces, (variant) => traceLongTasks(browser, variant, isAgent), ORDER.slice(1));
      reportAttribution(tasks);
    }
    if (!only || only === 'init') {
      const agents = ORDER.filter((variant) => variant !== 'without');
      reportInit(await rotate(runs, (variant) => measureInit(browser, variant), agents), agents);
    }
    if (!only || only === 'breakdown') {
      const variants = ORDER.filter((variant) => !SCRIPT_TAG_VARIANTS.includes(variant));
      const profiles = await rotate(BREAKDOWN_LOADS, (variant) => profileFetches(browser, variant, plain), variants);
      reportBreakdown(profiles, variants);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

/** Runs `measure` `times` times per variant, rotating the order so drift of the machine's load spreads evenly. */
async function rotate<T>(
  times: number,
  measure: (variant: Variant) => Promise<T>,
  variants: Variant[] = ORDER,
): Promise<Record<Variant, T[]>> {
  const results = Object.fromEntries(ORDER.map((variant) => [variant, []])) as unknown as Record<Variant, T[]>;
  const loadAtStart = loadavg()[0] as number;
  for (let run = 0; run < times; run++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(run + i) % variants.length] as Variant;
      results[variant].push(await measure(variant));
    }
  }
  console.log(
    `\nload average ${loadAtStart.toFixed(2)} at the start of the pass, ${loadavg()[0]?.toFixed(2)} at its end`,
  );
  return results;
}

async function openPage(
  browser: Browser,
  rate: number,
): Promise<{ tab: Page; cdp: CDPSession; close(): Promise<void> }> {
  const context = await browser.newContext();
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate });
  return { tab, cdp, close: () => context.close() };
}

async function measure(
  browser: Browser,
  variant: Variant,
  rate: number,
  metric: 'TaskDuration' | 'ThreadTime',
): Promise<Sample> {
  const { tab, cdp, close } = await openPage(browser, rate);
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === metric)?.value ?? 0) * 1000;
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
    return {
      startupMs: at('app-start') - at('page-start'),
      initMs: performance.getEntriesByName('rumkit-init')[0]?.duration ?? 0,
      longTasks: (window as unknown as { longTasks: number[] }).longTasks,
    };
  });
  await close();
  return {
    ...marks,
    untilLoad: atLoad,
    afterLoad: settled - atLoad,
    perFetch: (fetched - settled) / FETCHES,
  };
}

/** One load at 4× throttling, until `load`: how long the agent's start-up took (the `rumkit-init` measure). */
async function measureInit(browser: Browser, variant: Variant): Promise<number[]> {
  const { tab, close } = await openPage(browser, THROTTLING);
  const visits: number[] = [];
  for (let visit = 1; visit <= VISITS; visit++) {
    await tab.goto(`${ORIGIN}/${variant}?visit=${visit}`, { waitUntil: 'load' });
    await tab.waitForFunction(() => 'appReady' in window);
    visits.push(await tab.evaluate(() => performance.getEntriesByName('rumkit-init')[0]?.duration ?? Number.NaN));
    // Chromium writes a script's code cache once it has run: the next visit must not race it.
    await tab.waitForTimeout(300);
  }
  await close();
  return visits;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  id?: string;
  args: {
    name?: string;
    data?: {
      startTime?: number;
      timeDeltas?: number[];
      cpuProfile?: {
        nodes?: Array<{
          id: number;
          parent?: number;
          callFrame: { url: string; functionName: string; lineNumber: number; columnNumber: number };
        }>;
        samples?: number[];
      };
    };
  };
}

/** One load at 4× throttling, traced: its main-thread tasks over LONG_TASK_MS and the agent's share of each. */
async function traceLongTasks(browser: Browser, variant: Variant, isAgent: (url: string) => boolean) {
  const { tab, cdp, close } = await openPage(browser, THROTTLING);
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...(value as unknown as TraceEvent[])));
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: [
        'toplevel',
        'blink.user_timing',
        'disabled-by-default-v8.cpu_profiler',
        'disabled-by-default-v8.cpu_profiler.hires',
      ],
    },
  });
  await tab.goto(`${ORIGIN}/${variant}`, { waitUntil: 'load' });
  await tab.evaluate(() => performance.mark('bench-loaded'));
  await tab.waitForTimeout(2_500);
  await tab.evaluate((n) => (window as unknown as { runFetches(n: number): Promise<void> }).runFetches(n), FETCHES);
  await tab.waitForTimeout(1_500);
  await cdp.send('Tracing.end');
  await complete;
  await close();
  return longTasksIn(events, isAgent);
}

function longTasksIn(events: TraceEvent[], isAgent: (url: string) => boolean): LongTask[] {
  const mainThreads = new Map<number, number>();
  for (const e of events)
    if (e.name === 'thread_name' && e.args.name === 'CrRendererMain') mainThreads.set(e.pid, e.tid);
  // Profile nodes and samples by profile (process and id); each sample stands for the time until the next.
  const nodes = new Map<string, { url: string; parent?: number; frame: string }>();
  const clocks = new Map<string, number>();
  const samples: Array<{ pid: number; ts: number; node: () => { url: string; frame: string }; until: number }> = [];
  for (const e of events) {
    const profile = `${e.pid}:${e.id}`;
    if (e.name === 'Profile') clocks.set(profile, e.args.data?.startTime ?? e.ts);
    if (e.name !== 'ProfileChunk') continue;
    const data = e.args.data;
    for (const node of data?.cpuProfile?.nodes ?? []) {
      const { url = '', functionName, lineNumber, columnNumber } = node.callFrame;
      const frame = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber + 1}:${columnNumber + 1}`;
      nodes.set(`${profile}:${node.id}`, { url, parent: node.parent, frame });
    }
    let clock = clocks.get(profile) ?? 0;
    (data?.cpuProfile?.samples ?? []).forEach((node, i) => {
      clock += data?.timeDeltas?.[i] ?? 0;
      samples.push({ pid: e.pid, ts: clock, node: () => scriptNodeOf(profile, node), until: clock });
    });
    clocks.set(profile, clock);
  }
  // A native function (or a lazy compilation) counts for the script function that called it.
  const scriptNodeOf = (profile: string, id: number | undefined): { url: string; frame: string } => {
    for (let node = id; node !== undefined; ) {
      const n = nodes.get(`${profile}:${node}`);
      if (!n) break;
      if (n.url) return n;
      node = n.parent;
    }
    return { url: '', frame: '' };
  };
  samples.sort((a, b) => a.pid - b.pid || a.ts - b.ts);
  samples.forEach((sample, i) => {
    const next = samples[i + 1];
    if (next?.pid === sample.pid) sample.until = next.ts;
  });
  const agentSamples = samples.filter((s) => isAgent(s.node().url));
  const pid = agentSamples[0]?.pid;
  if (pid === undefined) throw new Error('the trace has no samples of the agent');
  const loaded = events.find((e) => e.name === 'bench-loaded' && e.pid === pid)?.ts ?? Number.POSITIVE_INFINITY;
  const tasks = events
    .filter(
      (e) =>
        e.name === 'ThreadControllerImpl::RunTask' &&
        e.ph === 'X' &&
        e.pid === pid &&
        e.tid === mainThreads.get(pid) &&
        (e.dur ?? 0) / 1000 > LONG_TASK_MS,
    )
    .sort((a, b) => a.ts - b.ts)
    // A nested run loop reports tasks inside tasks; the outer one is the long task.
    .filter((task, i, all) => !all.slice(0, i).some((o) => o.ts + (o.dur ?? 0) >= task.ts + (task.dur ?? 0)));
  return tasks.map((task) => {
    const end = task.ts + (task.dur ?? 0);
    const byFrame = new Map<string, number>();
    for (const s of agentSamples) {
      if (s.pid !== pid || s.ts < task.ts || s.ts >= end) continue;
      const frame = s.node().frame;
      byFrame.set(frame, (byFrame.get(frame) ?? 0) + (Math.min(s.until, end) - s.ts) / 1000);
    }
    const agentMs = [...byFrame.values()].reduce((sum, ms) => sum + ms, 0);
    const agentTop = [...byFrame]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([frame, ms]) => `${frame} ${ms.toFixed(1)}`);
    return { ms: (task.dur ?? 0) / 1000, agentMs, beforeLoad: task.ts < loaded, agentTop };
  });
}

/** Self time per fetch (µs) by where it was spent: a package, an agent source file, or a native function. */
type Breakdown = Map<string, number>;

async function profileFetches(browser: Browser, variant: Variant, plain: Map<string, Buffer>): Promise<Breakdown> {
  const { tab, cdp, close } = await openPage(browser, 1);
  await tab.goto(`${ORIGIN}${PLAIN}${variant}`, { waitUntil: 'load' });
  await tab.waitForFunction(() => 'appReady' in window);
  await tab.waitForTimeout(2_500);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  await cdp.send('Profiler.start');
  await tab.evaluate(
    (n) => (window as unknown as { runFetches(n: number): Promise<void> }).runFetches(n),
    BREAKDOWN_FETCHES,
  );
  await tab.waitForTimeout(1_500);
  const { profile } = await cdp.send('Profiler.stop');
  await close();
  // esbuild starts each module's code with a comment naming its path: the module of a line is the last one above.
  const modulesOf = new Map<string, Array<{ line: number; where: string }>>();
  for (const [urlPath, source] of plain) {
    const starts: Array<{ line: number; where: string }> = [];
    source
      .toString()
      .split('\n')
      .forEach((text, line) => {
        const module = /^\/\/ (\S+)$/.exec(text)?.[1];
        if (module) starts.push({ line, where: whereIs(module) });
      });
    modulesOf.set(urlPath, starts);
  }
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const spent: Breakdown = new Map();
  profile.samples?.forEach((id, i) => {
    const frame = nodes.get(id);
    const us = profile.timeDeltas?.[i + 1] ?? 0;
    if (!frame || ['(idle)', '(program)', '(root)'].includes(frame.functionName)) return;
    const starts = frame.url ? modulesOf.get(new URL(frame.url).pathname) : undefined;
    const where = frame.url
      ? (starts?.findLast(({ line }) => line <= frame.lineNumber)?.where ?? 'the page')
      : `native: ${frame.functionName || '(anonymous)'}`;
    spent.set(where, (spent.get(where) ?? 0) + us / BREAKDOWN_FETCHES);
  });
  return spent;
}

/** A package by its name; the agent's and the app's code by file. */
function whereIs(module: string): string {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module)?.[1];
  if (inPackage) return inPackage;
  const agent = /packages\/(\w+)\/src\/(.+)$/.exec(module);
  return agent ? `@rumkit/${agent[1]}: ${agent[2]}` : 'the page';
}

function reportBreakdown(profiles: Record<Variant, Breakdown[]>, variants: Variant[]) {
  console.log(
    `\nself time per fetch, no throttling, µs (mean of ${BREAKDOWN_LOADS} loads per variant, ${BREAKDOWN_FETCHES} fetches each, 50 µs sampling)`,
  );
  console.log(`| where | ${variants.map((v) => LABELS[v]).join(' | ')} |`);
  console.log(`| --- |${' ---: |'.repeat(variants.length)}`);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / BREAKDOWN_LOADS;
  const of = (variant: Variant, where: string) => mean(profiles[variant].map((load) => load.get(where) ?? 0));
  const total = (variant: Variant) =>
    mean(profiles[variant].map((load) => [...load.values()].reduce((a, b) => a + b, 0)));
  const rows = [...new Set(variants.flatMap((v) => profiles[v].flatMap((load) => [...load.keys()])))]
    .sort((a, b) => of('with', b) - of('with', a))
    .filter((where) => variants.some((v) => of(v, where) >= 2));
  for (const where of rows) console.log(`| ${where} | ${variants.map((v) => of(v, where).toFixed(0)).join(' | ')} |`);
  console.log(`| all of it | ${variants.map((v) => total(v).toFixed(0)).join(' | ')} |`);
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

function report(title: string, samples: Record<Variant, Sample[]>, throttled: boolean) {
  const row = (what: string, pick: (s: Sample) => number) => {
    const values = (v: Variant) => samples[v].map(pick);
    const cells = ORDER.map((v) => `${median(values(v)).toFixed(2)} (${quartiles(values(v))})`);
    const adds = (v: Variant) => (median(values(v)) - median(values('without'))).toFixed(2);
    const overOtel = median(values('with')) - median(values('otel'));
    return `| ${what} | ${cells.join(' | ')} | ${adds('with')} | ${overOtel.toFixed(2)} | ${adds('script')} |`;
  };
  const time = throttled ? 'task time' : 'CPU time';
  console.log(`\n${title}`);
  console.log(
    `| ms (median, interquartile range) | ${ORDER.map((v) => LABELS[v]).join(' | ')} | rumkit adds | of which beyond OTel | script tag adds |`,
  );
  console.log(`| --- |${' ---: |'.repeat(ORDER.length + 3)}`);
  console.log(row(`${time} until \`load\` (start-up)`, (s) => s.untilLoad));
  console.log(row("first inline script to the app's first line (wall clock)", (s) => s.startupMs));
  console.log(row('the `init()` call (wall clock)', (s) => s.initMs));
  console.log(
    row(`${time} from \`load\` to 2.5 s later (deferred chunk, document load, web vitals)`, (s) => s.afterLoad),
  );
  console.log(row(`${time} per fetch (${FETCHES} sequential)`, (s) => s.perFetch));
  if (!throttled) return;
  const longTasks = (v: Variant) => samples[v].flatMap((s) => s.longTasks);
  const cell = (v: Variant) => `${longTasks(v).length} (${Math.max(0, ...longTasks(v)).toFixed(0)})`;
  console.log(
    `| long tasks > 50 ms the page observed: count over all runs (longest) | ${ORDER.map(cell).join(' | ')} | | | |`,
  );
}

function reportInit(samples: Record<Variant, number[][]>, variants: Variant[]) {
  console.log(
    `\nstart-up at ${THROTTLING}× throttling: the \`init()\` call, or the script tag's \`<script>\` (${runs} browser contexts each, ${VISITS} visits in each)`,
  );
  const visits = Array.from({ length: VISITS }, (_, i) => i);
  console.log(`| ms, median (interquartile range) | ${visits.map((i) => `visit ${i + 1}`).join(' | ')} |`);
  console.log(`| --- |${' ---: |'.repeat(VISITS)}`);
  for (const variant of variants) {
    const cells = visits.map((i) => {
      const values = samples[variant].map((contextVisits) => contextVisits[i] as number);
      return `${median(values).toFixed(2)} (${quartiles(values)})`;
    });
    console.log(`| ${LABELS[variant]} | ${cells.join(' | ')} |`);
  }
}

function reportAttribution(tasks: Record<Variant, LongTask[][]>) {
  console.log(
    `\nlong tasks at ${THROTTLING}× throttling, from traces (${traces} loads per variant, each with ${FETCHES} fetches)`,
  );
  console.log(
    `| variant | phase | tasks > ${LONG_TASK_MS} ms | longest | with agent code | agent time in them: median (most) | caused by the agent |`,
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const variant of ORDER.slice(1)) {
    for (const beforeLoad of [true, false]) {
      const all = tasks[variant].flat().filter((t) => t.beforeLoad === beforeLoad);
      const withAgent = all.filter((t) => t.agentMs > 0);
      const caused = all.filter((t) => t.ms - t.agentMs <= LONG_TASK_MS);
      const agentMs = withAgent.map((t) => t.agentMs);
      console.log(
        `| ${LABELS[variant]} | ${beforeLoad ? 'until `load`' : 'after `load`'} | ${all.length} | ${Math.max(0, ...all.map((t) => t.ms)).toFixed(0)} | ${withAgent.length} | ${agentMs.length ? `${median(agentMs).toFixed(1)} (${Math.max(...agentMs).toFixed(1)})` : '–'} | ${caused.length} |`,
      );
    }
  }
  console.log('\nthe long tasks the agent caused, and its functions that took most of its time in them (minified)');
  for (const variant of ORDER.slice(1)) {
    for (const task of tasks[variant].flat().filter((t) => t.ms - t.agentMs <= LONG_TASK_MS)) {
      const phase = task.beforeLoad ? 'until `load`' : 'after `load`';
      console.log(
        `- ${LABELS[variant]}, ${phase}: ${task.ms.toFixed(0)} ms, agent ${task.agentMs.toFixed(1)} ms: ${task.agentTop.join('; ')}`,
      );
    }
  }
}

await main();
