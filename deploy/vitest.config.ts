import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.ts';

export default mergeConfig(
  sharedConfig,
  defineProject({
    // The collector and Tempo binaries come from the stack's build cache (built by .ci/run). On a cold
    // cache the first test file builds them, for minutes; one file at a time, so only one Go build runs.
    test: { name: 'deploy', include: ['**/*.test.ts'], testTimeout: 600_000, fileParallelism: false },
  }),
);
