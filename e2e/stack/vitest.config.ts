import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// The harness's own helpers; the stack itself is exercised by smoke.ts, deploy/ and the end-to-end specs.
export default mergeConfig(sharedConfig, defineProject({ test: { name: 'stack', include: ['*.test.ts'] } }));
