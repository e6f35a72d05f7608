/**
 * Builds dist/ (declarations come from `tsc -b`):
 *
 * - `index.js`, `zone.js` and their chunks: plain ESM with the OpenTelemetry packages already bundled, so an
 *   app's bundler gets the same small, tree-shaken code whether or not it applies the `module` export
 *   condition (without it, OpenTelemetry resolves to CommonJS and doubles in size). Not minified: the app
 *   minifies.
 * - `rumkit.iife.js` for a script tag, plus `rumkit.deferred.js` and `rumkit.xhr.js`, classic scripts it loads
 *   from beside itself. Classic scripts cannot share modules the way ESM chunks do, so this takes two passes:
 *   an ESM split build finds the modules the chunks share with the main script; the main script then exposes
 *   those shared modules on one global, and each chunk reads them from there instead of carrying a copy.
 *
 *     node scripts/build.ts
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { CHUNK_GLOBAL } from '../src/lib/chunkGlobal.ts';

const root = path.resolve(fileURLToPath(import.meta.url), '../..');
const dist = path.join(root, 'dist');

const esm = (pkg: string) => path.join(root, '../../node_modules/@opentelemetry', pkg, 'build/esm');
const INSTRUMENTATIONS = ['instrumentation-fetch', 'instrumentation-document-load', 'instrumentation-xml-http-request'];

/** The first of an OpenTelemetry package's ESM files (outside `except`) whose code matches `pattern`. */
function fileMatching(pkg: string, pattern: RegExp, except = /^$/): string | undefined {
  return readdirSync(esm(pkg), { recursive: true, encoding: 'utf8' }).find(
    (file) =>
      file.endsWith('.js') && !except.test(file) && pattern.test(readFileSync(path.join(esm(pkg), file), 'utf8')),
  );
}

/**
 * `sdk-trace-web` (which document load imports) and `web-common` (which fetch imports) each carry the same
 * `PerformanceTimingNames` enum; the page gets one copy, web-common's, which lives in the first script. The
 * build stops if a release makes the two differ.
 */
export function oneTimingNamesEnum(): Plugin {
  const copy = (pkg: string) => path.join(esm(pkg), 'enums/PerformanceTimingNames.js');
  const code = (file: string) =>
    readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      .trim();
  return {
    name: 'one-timing-names-enum',
    setup(b) {
      if (code(copy('sdk-trace-web')) !== code(copy('web-common'))) {
        throw new Error('PerformanceTimingNames differs between sdk-trace-web and web-common: drop the alias');
      }
      b.onResolve({ filter: /\/enums\/PerformanceTimingNames$/ }, (args) =>
        args.importer.includes('/sdk-trace-web/') ? { path: copy('web-common') } : undefined,
      );
    },
  };
}

/**
 * `@opentelemetry/instrumentation` gets a logger from `@opentelemetry/api-logs` for each instrumentation,
 * and none of the ones the agent bundles emits a log record: the agent carries a no-op logger instead of the
 * logs API (its global registry, proxy and no-op provider): 226 B gzip. The build stops if any other module
 * imports the logs API or if one of the instrumentations starts using its logger.
 */
export function noLogsApi(): Plugin {
  for (const pkg of INSTRUMENTATIONS) {
    const file = fileMatching(pkg, /\blogger\b|_logger\b/);
    if (file) throw new Error(`@opentelemetry/${pkg}/${file} uses its logger: drop the no-op logs API`);
  }
  return {
    name: 'no-logs-api',
    setup(b) {
      b.onResolve({ filter: /^@opentelemetry\/api-logs$/ }, (args) => {
        // The base class gets its logger there; `registerInstrumentations` (not bundled) reads the provider.
        if (!args.importer.startsWith(esm('instrumentation'))) {
          throw new Error(`${args.importer} imports @opentelemetry/api-logs: check what it logs before stubbing it`);
        }
        return { path: 'api-logs', namespace: 'no-logs-api' };
      });
      b.onLoad({ filter: /.*/, namespace: 'no-logs-api' }, () => ({
        contents: `const provider = { getLogger: () => ({ emit() {}, enabled: () => false }) };
          export const logs = { getLogger: provider.getLogger, getLoggerProvider: () => provider };`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Nothing the agent bundles records a metric: the SDK's own `otel.sdk.span.*` metrics go to the meter provider
 * given to the `TracerProvider` (the agent gives none, so a no-op meter gets them), and the bundled
 * instrumentations create no instruments. So the SDK's per-span bookkeeping for those metrics is left out, and
 * the metrics API (its global registry and no-op classes) with it: instrumentations take a meter they never use.
 * The build stops if an instrumentation or the SDK's tracer starts to use a meter.
 */
export function noMetrics(): Plugin {
  for (const pkg of INSTRUMENTATIONS) {
    const file = fileMatching(pkg, /\bmeter\b|_meter\b|\bmetrics\.\w/);
    if (file) throw new Error(`@opentelemetry/${pkg}/${file} uses metrics: drop the no-metrics stubs`);
  }
  // The span processors (under export/) have metrics of their own; the agent bundles none of them.
  const sdkFile = fileMatching(
    'sdk-trace',
    /\.create(Counter|UpDownCounter|Histogram|Gauge|Observable)/,
    /^(export\/|TracerMetrics)/,
  );
  if (sdkFile) throw new Error(`@opentelemetry/sdk-trace/${sdkFile} records metrics: drop the no-metrics stubs`);
  const stubs: Record<string, { importer: string; contents: string }> = {
    './TracerMetrics': {
      importer: path.join(esm('sdk-trace'), 'Tracer.js'),
      contents: 'const done = () => {}; export class TracerMetrics { startSpan() { return done; } }',
    },
    './metrics-api': {
      importer: path.join(esm('api'), 'index.js'),
      contents: 'export const metrics = { getMeter() {} };',
    },
    './metrics/NoopMeter': {
      importer: path.join(esm('api'), 'index.js'),
      contents: 'export const createNoopMeter = () => {};',
    },
  };
  return {
    name: 'no-metrics',
    setup(b) {
      b.onResolve({ filter: /^\.\/(TracerMetrics|metrics-api|metrics\/NoopMeter)$/ }, (args) =>
        stubs[args.path]?.importer === args.importer ? { path: args.path, namespace: 'no-metrics' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'no-metrics' }, (args) => ({
        contents: stubs[args.path]?.contents,
        loader: 'js',
      }));
    },
  };
}

/**
 * The SDK's span, tracer and tracer provider each carry a `nodejs.util.inspect.custom` method, for Node's
 * `console.log`; browsers never call it. The build cuts the three methods (and the helpers they import) out.
 * It stops if a release changes those files so that the cut no longer applies exactly once in each.
 */
export function noNodeInspect(): Plugin {
  return {
    name: 'no-node-inspect',
    setup(b) {
      b.onLoad({ filter: INSPECTED }, (args) => ({ contents: withoutInspect(args.path), loader: 'js' }));
    },
  };
}

const INSPECTED = /@opentelemetry\/sdk-trace\/build\/esm\/(Span|Tracer|TracerProvider)\.js$/;

/** One of the INSPECTED files without its inspect method. */
function withoutInspect(file: string): string {
  const method = /\n {4}\[inspectCustom\]\(depth, options, inspect\) \{\n[\s\S]*?\n {4}\}\n/g;
  const importLine = /^import \{ formatInspect, inspectCustom, settledResourceAttributes, \} from '\.\/inspect';\n/m;
  const source = readFileSync(file, 'utf8');
  const contents = source.replace(importLine, '').replace(method, '\n');
  if (source.match(method)?.length !== 1 || /inspectCustom|formatInspect|settledResource/.test(contents)) {
    throw new Error(`${file}: its inspect method changed shape; update or drop noNodeInspect`);
  }
  return contents;
}

/**
 * The SDK only hands its resource from the tracer provider to each span, and nothing the agent bundles reads it
 * back: the agent encodes its own resource once, as the JSON every request body starts with (init.ts). So the
 * `Resource` classes of `@opentelemetry/resources`, and its default resource (`unknown_service`, the SDK's
 * attributes), are left out: the SDK's spans carry an empty resource. The build stops if a line of `sdk-trace`
 * starts to do more with the resource than pass it along, or if a module the agent bundles reads a span's
 * resource.
 */
export function noSdkResource(): Plugin {
  const passedAlong = [
    "import { defaultResource } from '@opentelemetry/resources';",
    'this._resource = options.resource ?? defaultResource();',
    'this._resource = options.resource;',
    'this.resource = opts.resource;',
    'resource: this._resource,',
    '_resource;',
    'resource;',
  ];
  for (const file of readdirSync(esm('sdk-trace'), { recursive: true, encoding: 'utf8' })) {
    // The span processors under export/ are not bundled; inspect.js goes with the methods noNodeInspect cuts.
    if (!file.endsWith('.js') || /^export\/|^inspect\.js$/.test(file)) continue;
    const full = path.join(esm('sdk-trace'), file);
    for (const line of (INSPECTED.test(full) ? withoutInspect(full) : readFileSync(full, 'utf8')).split('\n')) {
      if (/resource/i.test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line) && !passedAlong.includes(line.trim())) {
        throw new Error(`@opentelemetry/sdk-trace/${file} uses the resource (${line.trim()}): drop noSdkResource`);
      }
    }
  }
  for (const pkg of [...INSTRUMENTATIONS, 'instrumentation', 'web-common', 'sdk-trace-web']) {
    const file = fileMatching(pkg, /\.resource\b|_resource\b/);
    if (file) throw new Error(`@opentelemetry/${pkg}/${file} reads a span's resource: drop noSdkResource`);
  }
  return {
    name: 'no-sdk-resource',
    setup(b) {
      b.onResolve({ filter: /^@opentelemetry\/resources$/ }, (args) => {
        if (!args.importer.startsWith(esm('sdk-trace'))) {
          throw new Error(`${args.importer} imports @opentelemetry/resources: check what it does before stubbing it`);
        }
        return { path: 'resources', namespace: 'no-sdk-resource' };
      });
      b.onLoad({ filter: /.*/, namespace: 'no-sdk-resource' }, () => ({
        contents: 'const empty = { attributes: {} }; export const defaultResource = () => empty;',
        loader: 'js',
      }));
    },
  };
}

/**
 * The propagation API carries baggage (`propagation.getBaggage()`, `createBaggage()`, …) and nothing the agent
 * bundles uses it: the agent's propagator reads and writes `traceparent` and `tracestate` only, and the bundled API
 * is out of the page's reach (the agent hands out its tracer alone; a page's own `@opentelemetry/api` is a copy of
 * its own). So the API's baggage helpers and its `Baggage` class are left out: about 190 B gzip. The build stops if a
 * module it bundles, other than the API's own, uses baggage.
 */
export function noBaggage(): Plugin {
  const propagationApi = path.join(esm('api'), 'api/propagation.js');
  const repository = path.resolve(root, '../..');
  const usesBaggage = /\b(get|set|delete|create|getActive)Baggage\b/;
  return {
    name: 'no-baggage',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/baggage\/(context-helpers|utils)$/ }, (args) =>
        args.importer === propagationApi ? { path: args.path, namespace: 'no-baggage' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'no-baggage' }, () => ({
        contents: 'export let getBaggage, getActiveBaggage, setBaggage, deleteBaggage, createBaggage;',
        loader: 'js',
      }));
      // What the output holds, not what the build read: `@opentelemetry/core`'s index reaches its baggage
      // propagator, which tree shaking leaves out. Sources of the repository only: the script tag's second pass
      // bundles the first pass's output, which holds the API (`this.getBaggage = …`).
      b.initialOptions.metafile = true;
      b.onEnd(({ metafile }) => {
        for (const output of Object.values(metafile?.outputs ?? {})) {
          for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
            const file = path.resolve(b.initialOptions.absWorkingDir ?? process.cwd(), input);
            const checked = bytesInOutput && file.startsWith(repository) && !file.startsWith(esm('api'));
            if (checked && existsSync(file) && usesBaggage.test(readFileSync(file, 'utf8'))) {
              throw new Error(`${input} uses baggage: drop noBaggage`);
            }
          }
        }
      });
    },
  };
}

/** What the package's build does to OpenTelemetry's modules; size.ts applies the same. */
export const packagePlugins = (): Plugin[] => [
  oneTimingNamesEnum(),
  noLogsApi(),
  noMetrics(),
  noNodeInspect(),
  noSdkResource(),
  noBaggage(),
];

const common: BuildOptions = {
  bundle: true,
  platform: 'browser',
  target: 'es2020',
  // `module` selects OpenTelemetry's ESM builds; `rumkit-source` resolves @rumkit/otlp to its sources.
  conditions: ['module', 'rumkit-source'],
  legalComments: 'none',
  logLevel: 'warning',
  plugins: packagePlugins(),
};

export async function buildEsm(): Promise<void> {
  // On a fresh clone nothing has created dist/ yet.
  mkdirSync(dist, { recursive: true });
  for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.js') || file.endsWith('.js.map')) rmSync(path.join(dist, file));
  }
  await build({
    ...common,
    entryPoints: { index: 'src/index.ts', zone: 'src/zone.ts', xhr: 'src/xhr/index.ts' },
    absWorkingDir: root,
    format: 'esm',
    splitting: true,
    outdir: dist,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
  });
}

export async function buildScriptTag(): Promise<void> {
  const split = mkdtempSync(path.join(tmpdir(), 'rumkit-iife-'));
  try {
    await build({
      ...common,
      entryPoints: { rumkit: 'src/script.ts', 'rumkit.deferred': 'src/deferred.ts', 'rumkit.xhr': 'src/xhr/index.ts' },
      absWorkingDir: root,
      format: 'esm',
      splitting: true,
      minify: true,
      outdir: split,
      chunkNames: 'shared-[hash]',
    });
    const sharedChunks = readdirSync(split).filter((f) => f.startsWith('shared-'));
    const exposeShared =
      sharedChunks.map((f, i) => `import * as m${i} from './${f}';`).join('\n') +
      `\nglobalThis.${CHUNK_GLOBAL} = { ${sharedChunks.map((f, i) => `'./${f}': m${i}`).join(', ')} };`;
    await build({
      ...common,
      // The shared modules must be on the global before the agent can ask for a chunk that reads them.
      stdin: { contents: `import './expose.js';\nimport './rumkit.js';`, resolveDir: split },
      plugins: [...(common.plugins ?? []), virtualModule('expose.js', exposeShared, split)],
      format: 'iife',
      minify: true,
      // V8's explicit compile hint (Chromium 136+): the page calls most of this script at once, so compiling
      // it eagerly (off the main thread while it streams in) spares init() the lazy compiles of each function.
      // Bundlers drop the comment, so the npm build cannot carry it.
      banner: { js: '//# allFunctionsCalledOnLoad' },
      outfile: path.join(dist, 'rumkit.iife.js'),
    });
    for (const name of ['deferred', 'xhr']) {
      await build({
        ...common,
        entryPoints: [path.join(split, `rumkit.${name}.js`)],
        plugins: [...(common.plugins ?? []), sharedFromGlobal()],
        format: 'iife',
        globalName: `${CHUNK_GLOBAL}.${name}`,
        minify: true,
        outfile: path.join(dist, `rumkit.${name}.js`),
      });
    }
  } finally {
    rmSync(split, { recursive: true, force: true });
  }
}

function virtualModule(name: string, contents: string, resolveDir: string): Plugin {
  return {
    name: 'virtual-module',
    setup(b) {
      b.onResolve({ filter: new RegExp(`^\\./${name.replace('.', '\\.')}$`) }, () => ({
        path: name,
        namespace: 'virtual',
      }));
      b.onLoad({ filter: /.*/, namespace: 'virtual' }, () => ({ contents, resolveDir, loader: 'js' }));
    },
  };
}

/** In a chunk, `import { a } from './shared-X.js'` becomes a read of the module the main script exposed. */
function sharedFromGlobal(): Plugin {
  return {
    name: 'shared-from-global',
    setup(b) {
      b.onResolve({ filter: /^\.\/shared-/ }, (args) => ({ path: args.path, namespace: 'shared' }));
      b.onLoad({ filter: /.*/, namespace: 'shared' }, (args) => ({
        contents: `module.exports = globalThis.${CHUNK_GLOBAL}[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
    },
  };
}

if (import.meta.main) {
  await buildEsm();
  await buildScriptTag();
}
