/**
 * Vitest for the whole repository: one project per package, each running its tests beside its code.
 * `npm run test:unit` runs them all; `npx vitest run --project worker` runs one.
 */
import { defineConfig } from 'vitest/config';

const sourceConditions = { resolve: { conditions: ['rumkit-source'] } };

export default defineConfig({
  test: {
    projects: [
      { ...sourceConditions, test: { name: 'otlp', root: 'packages/otlp', include: ['src/**/*.test.ts'] } },
      { ...sourceConditions, test: { name: 'browser', root: 'packages/browser', include: ['src/**/*.test.ts'] } },
      { ...sourceConditions, test: { name: 'worker', root: 'worker', include: ['src/**/*.test.ts'] } },
    ],
  },
});
