/**
 * Builds the JavaScript of dist/ (declarations come from `tsc -b`): plain ESM, one file per entry point plus the
 * chunk they share, so `@rumkit/react` and `@rumkit/react/react-router` use one React context. React, React
 * Router and the agent stay imports: the app has them once. Not minified: the app minifies.
 *
 *     node scripts/build.ts
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');

export async function buildPackage(): Promise<void> {
  mkdirSync(dist, { recursive: true });
  for (const file of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (file.endsWith('.js') || file.endsWith('.js.map')) rmSync(path.join(dist, file));
  }
  await build({
    entryPoints: { index: 'src/index.ts', 'reactRouter/index': 'src/reactRouter/index.ts' },
    absWorkingDir: root,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    jsx: 'automatic',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outdir: dist,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (import.meta.main) await buildPackage();
