/**
 * Vitest for the whole repository: every package brings its own `vitest*.config.ts` (tests live beside
 * the code they test). `npm run test:unit` runs them all; `npx vitest run --project worker` runs one.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest*.config.ts',
      'worker/vitest*.config.ts',
      'demo/vitest*.config.ts',
      'deploy/vitest*.config.ts',
      'e2e/stack/vitest*.config.ts',
    ],
  },
});
