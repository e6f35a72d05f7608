/**
 * How ../shared/bench/bundle-size/measure.mjs bundles and weighs the peers' agents, so that every size rumkit
 * quotes (the agent's budget in size.ts, @rumkit/react's in bench/react/size.ts) is measured the same way.
 *
 *     const result = await build({ ...harness, entryPoints: [entry], outfile });
 *     gzip(result.outputFiles[0].contents);
 */
import { gzipSync } from 'node:zlib';
import type { BuildOptions } from 'esbuild';

export const harness = {
  bundle: true,
  platform: 'browser' as const,
  format: 'esm' as const,
  target: 'es2020',
  minify: true,
  treeShaking: true,
  legalComments: 'none',
  conditions: ['module', 'production'],
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'silent' as const,
  metafile: true as const,
  write: false as const,
} satisfies BuildOptions;

export const gzip = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length;
