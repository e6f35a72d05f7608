/**
 * Builds the React pages the browser tests drive (index.html, hash.html, zone.html) with Vite, like an app would be, once per React line
 * (../support/reactLines.ts) into dist/<line>. A development build: React's StrictMode double renders and double
 * effects only happen there, and the tests must prove the provider survives them. Workspace packages resolve to
 * their sources.
 *
 *     node test/app/build.ts
 */
import react from '@vitejs/plugin-react';
import { build } from 'vite';
import { REACT_LINES } from '../support/reactLines.ts';
import { resolveReactFrom } from '../support/resolveReactFrom.ts';

for (const line of REACT_LINES) {
  await build({
    configFile: false,
    root: import.meta.dirname,
    mode: 'development',
    plugins: [react(), resolveReactFrom(line.packagesFrom)],
    resolve: { conditions: ['rumkit-source'] },
    define: { 'process.env.NODE_ENV': JSON.stringify('development') },
    build: {
      outDir: line.appDist,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      rollupOptions: {
        input: ['index.html', 'hash.html', 'zone.html'].map((page) => `${import.meta.dirname}/${page}`),
      },
    },
    logLevel: 'warn',
  });
}
