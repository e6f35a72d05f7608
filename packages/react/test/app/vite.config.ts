/**
 * The React page the browser tests drive, built with Vite like an app would be. A development build: React's
 * StrictMode double renders and double effects only happen there, and the tests must prove the provider
 * survives them. Workspace packages resolve to their sources.
 *
 *     npx vite build -c test/app/vite.config.ts
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  mode: 'development',
  plugins: [react()],
  resolve: { conditions: ['rumkit-source'] },
  define: { 'process.env.NODE_ENV': JSON.stringify('development') },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', minify: false },
  logLevel: 'warn',
});
