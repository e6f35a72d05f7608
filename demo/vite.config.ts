/**
 * Builds the demo's two pages into dist/web: the React page (index.html, `@rumkit/react`) and the plain-HTML page
 * (plain.html, the agent by script tag, which demo/serve.ts serves beside the pages). Workspace packages resolve
 * to their sources.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  plugins: [react()],
  resolve: { conditions: ['rumkit-source'] },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { react: 'web/index.html', plain: 'web/plain.html' } },
  },
});
