/**
 * The size budget that gates CI, measured the way ../shared/bench/bundle-size measures the peers: esbuild
 * (browser, ESM, es2020, minified, `--conditions=module,production`), gzip level 9, each chunk compressed on
 * its own because each is its own response. The entry is the default setup an app writes,
 * `import { init } from '@rumkit/browser'; init({...})` (bench/browser/default-setup.ts, the file the harness
 * measures), resolved to the built package (run the build first).
 *
 * - the script the page loads (entry chunk and the chunks it imports statically) ≤ 22,000 B;
 * - everything the default setup loads: that plus the chunk fetched after `load` (document load and web
 *   vitals) ≤ 28,000 B. XHR and zone are other entry points (`@rumkit/browser/xhr`, `/zone`), not in it.
 * - the script-tag build: `rumkit.iife.js` and `rumkit.iife.js` + `rumkit.deferred.js`, same limits.
 *
 * It also reports what the opt-in zone entry adds, and the loader snippet's size.
 *
 *     node scripts/size.ts              # table, exit 1 when over budget
 *     node scripts/size.ts --by-feature # also minified bytes per feature (from the sources)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { packagePlugins } from './build.ts';
import { gzip, harness } from './harness.ts';

export const PAGE_LOAD_BUDGET = 22_000;
export const DEFAULT_SETUP_BUDGET = 28_000;

const root = path.resolve(fileURLToPath(import.meta.url), '../..');

/** The entry the shared harness measures too (see bench/browser/RESULTS.md). */
const DEFAULT_SETUP = readFileSync(path.join(root, '../../bench/browser/default-setup.ts'), 'utf8');

export interface EsmSizes {
  pageLoad: number;
  afterLoad: number;
  /** One file, no splitting: the harness's "all code" column. */
  allCodeOneFile: number;
}

/** `packageEntry`: the same setup through another entry point of the package, e.g. `@rumkit/browser/zone`. */
export async function measureEsm(packageEntry = '@rumkit/browser'): Promise<EsmSizes> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rumkit-size-'));
  try {
    const entry = path.join(dir, 'default-setup.mjs');
    writeFileSync(entry, DEFAULT_SETUP.replace("'@rumkit/browser'", `'${packageEntry}'`));
    const nodePaths = [path.join(root, '../../node_modules')];
    const split = await build({
      ...harness,
      nodePaths,
      entryPoints: [entry],
      splitting: true,
      outdir: path.join(dir, 'out'),
    });
    const one = await build({ ...harness, nodePaths, entryPoints: [entry], outfile: path.join(dir, 'one.js') });
    const outputs = split.metafile.outputs;
    const byName = new Map(split.outputFiles.map((f) => [path.relative(dir, f.path), f.contents]));
    const key = (p: string) => path.relative(dir, path.resolve(process.cwd(), p));
    const entryOut = Object.keys(outputs).find((k) => outputs[k]?.entryPoint) as string;
    const staticClosure = closure(outputs, entryOut, 'import-statement');
    const sizes = { pageLoad: 0, afterLoad: 0, allCodeOneFile: gzip(one.outputFiles[0]?.contents ?? new Uint8Array()) };
    for (const out of Object.keys(outputs)) {
      const bytes = gzip(byName.get(key(out)) ?? new Uint8Array());
      if (staticClosure.has(out)) sizes.pageLoad += bytes;
      else sizes.afterLoad += bytes;
    }
    return sizes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function closure(outputs: Metafile['outputs'], start: string, kind: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const out = stack.pop() as string;
    if (seen.has(out)) continue;
    seen.add(out);
    for (const i of outputs[out]?.imports ?? []) if (i.kind === kind && outputs[i.path]) stack.push(i.path);
  }
  return seen;
}

export function measureScriptTag(): { iife: number; deferred: number; xhr: number } {
  const file = (name: string) => gzip(readFileSync(path.join(root, 'dist', name)));
  return { iife: file('rumkit.iife.js'), deferred: file('rumkit.deferred.js'), xhr: file('rumkit.xhr.js') };
}

/** Which feature a source file belongs to, for the size-by-feature table. */
const FEATURES: Array<[RegExp, string]> = [
  [
    /src\/transport\/|otlp\/src\/encodeSpans|src\/processor|src\/lib\/utf8Length/,
    'transport (batching, retry, beacon, queue, OTLP/JSON)',
  ],
  [/src\/(session\/|lib\/(storage|randomId)\.ts)/, 'session and page views'],
  [/src\/errors\//, 'errors'],
  [/src\/(fetch\/|responseTimes|httpClientOptions)|instrumentation-fetch|web-common/, 'fetch instrumentation'],
  [/src\/(documentLoad\/|deferred)|instrumentation-document-load|sdk-trace-web/, 'document load (after load)'],
  [/src\/webVitals\/|web-vitals/, 'web vitals, attribution build (after load)'],
  [
    /src\/(sampler|edgeRate|traceContext|resource|config|init|index|chunks|instrumentations|version|lib\/(listen|storageScope))|otlp\/src\/sampling/,
    'agent core (config, init, sampler, W3C propagator, resource)',
  ],
];

export async function minifiedBytesByFeature(): Promise<Map<string, number>> {
  const result = await build({
    ...harness,
    conditions: ['module', 'production', 'rumkit-source'],
    // As the package's build bundles it.
    plugins: packagePlugins(),
    stdin: { contents: DEFAULT_SETUP.replace("'@rumkit/browser'", "'./src/index.ts'"), resolveDir: root },
  });
  const bytes = new Map<string, number>();
  const output = Object.values(result.metafile.outputs)[0] as Metafile['outputs'][string];
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const feature = FEATURES.find(([pattern]) => pattern.test(input))?.[1] ?? 'OpenTelemetry API and SDK';
    bytes.set(feature, (bytes.get(feature) ?? 0) + bytesInOutput);
  }
  return bytes;
}

if (import.meta.main) {
  const esm = await measureEsm();
  const zone = await measureEsm('@rumkit/browser/zone');
  const tag = measureScriptTag();
  const rows: Array<[string, number, number | undefined]> = [
    ['npm: the script the page loads', esm.pageLoad, PAGE_LOAD_BUDGET],
    ['npm: everything the default setup loads', esm.pageLoad + esm.afterLoad, DEFAULT_SETUP_BUDGET],
    ['npm: of which fetched after load', esm.afterLoad, undefined],
    ['npm: all code in one file (the harness\'s "all code" column)', esm.allCodeOneFile, undefined],
    ['script tag: rumkit.iife.js', tag.iife, PAGE_LOAD_BUDGET],
    ['script tag: + rumkit.deferred.js', tag.iife + tag.deferred, DEFAULT_SETUP_BUDGET],
    ['script tag: rumkit.xhr.js (data-xhr only)', tag.xhr, undefined],
    [
      'npm, @rumkit/browser/zone: what the zone entry adds to the script the page loads',
      zone.pageLoad - esm.pageLoad,
      undefined,
    ],
    // Uncompressed, as it is pasted into pages; test/deliveryForms.spec.ts holds it under 1 KB.
    [
      'loader snippet (loader/snippet.html), uncompressed',
      readFileSync(path.join(root, 'loader/snippet.html')).length,
      undefined,
    ],
  ];
  console.log('| what | gzip -9 bytes | budget |\n| --- | ---: | ---: |');
  for (const [what, bytes, budget] of rows) console.log(`| ${what} | ${bytes} | ${budget ?? ''} |`);
  if (process.argv.includes('--by-feature')) {
    console.log('\n| feature | minified bytes |\n| --- | ---: |');
    for (const [feature, bytes] of [...(await minifiedBytesByFeature())].sort((a, b) => b[1] - a[1])) {
      console.log(`| ${feature} | ${bytes} |`);
    }
  }
  const over = rows.filter(([, bytes, budget]) => budget !== undefined && bytes > budget);
  for (const [what, bytes, budget] of over) console.error(`over budget: ${what}: ${bytes} B > ${budget} B`);
  process.exitCode = over.length ? 1 : 0;
}
