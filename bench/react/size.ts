/**
 * The size of `@rumkit/react`, measured like the agent's (packages/browser/scripts/size.ts, after
 * ../shared/bench/bundle-size): esbuild (browser, ESM, es2020, minified, `--conditions=module,production`),
 * gzip level 9. The entry is an app that uses every export, so nothing is tree-shaken away; React, ReactDOM,
 * React Router and the agent (`@rumkit/browser`, measured on its own) are external: the app has them anyway.
 * Built from the package's dist/ (run its build first).
 *
 *     node bench/react/size.ts   # table; exit 1 over the budget
 */
import path from 'node:path';
import { build } from 'esbuild';
import { gzip, harness } from '../../packages/browser/scripts/harness.ts';

/** What the integration may add to an app on top of the agent. */
export const REACT_BUDGET = 2_000;

const root = path.resolve(import.meta.dirname, '../..');
const EXTERNAL = ['react', 'react-dom', 'react/jsx-runtime', 'react-router', '@rumkit/browser'];

const ENTRIES = {
  '@rumkit/react, every export': `import * as rumkit from '@rumkit/react'; globalThis.keep = rumkit;`,
  '@rumkit/react/react-router, every export': `import * as rumkit from '@rumkit/react/react-router'; globalThis.keep = rumkit;`,
  'a typical app: provider, error boundary, useSpan, RumkitRoutes': `
    import { RumkitErrorBoundary, RumkitProvider, useSpan } from '@rumkit/react';
    import { RumkitRoutes } from '@rumkit/react/react-router';
    globalThis.keep = [RumkitErrorBoundary, RumkitProvider, useSpan, RumkitRoutes];`,
};

export async function measure(contents: string): Promise<number> {
  const result = await build({
    ...harness,
    stdin: { contents, resolveDir: root, loader: 'js' },
    external: EXTERNAL,
  });
  return gzip(result.outputFiles[0]?.contents ?? new Uint8Array());
}

if (import.meta.main) {
  console.log('| what | gzip -9 bytes |\n| --- | ---: |');
  const sizes: number[] = [];
  for (const [what, contents] of Object.entries(ENTRIES)) {
    const bytes = await measure(contents);
    sizes.push(bytes);
    console.log(`| ${what} | ${bytes} |`);
  }
  const largest = Math.max(...sizes);
  if (largest > REACT_BUDGET) {
    console.error(`over budget: ${largest} B > ${REACT_BUDGET} B`);
    process.exitCode = 1;
  }
}
