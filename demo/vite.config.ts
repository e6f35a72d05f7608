import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  resolve: { conditions: ['rumkit-source'] },
  build: { outDir: '../dist/web', emptyOutDir: true, target: 'es2022' },
});
