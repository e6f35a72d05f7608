/**
 * Settings every Vitest project shares: workspace packages resolve to their TypeScript sources through
 * the `rumkit-source` export condition, so tests never need a build first.
 */
import { defineConfig } from 'vitest/config';

export const sharedConfig = defineConfig({
  resolve: { conditions: ['rumkit-source'] },
  // Vitest runs Node tests through Vite's SSR resolver, which reads its own conditions list.
  ssr: { resolve: { conditions: ['rumkit-source'] } },
  // A `.only` left in a test file fails the run instead of quietly running that test alone (Vitest allows it
  // unless CI is set, which .ci/run does not set).
  test: { allowOnly: false },
});
