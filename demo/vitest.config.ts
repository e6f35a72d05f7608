import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.ts';

export default mergeConfig(
  sharedConfig,
  defineProject({
    // Vitest runs Node tests through Vite's SSR resolver, which reads its own conditions list.
    ssr: { resolve: { conditions: ['rumkit-source'] } },
    test: { name: 'demo', include: ['traceView/**/*.test.ts'] },
  }),
);
