import { defineProject } from 'vitest/config';

// The harness's own helpers; the stack itself is exercised by smoke.ts, deploy/ and the end-to-end specs.
export default defineProject({ test: { name: 'stack', include: ['*.test.ts'] } });
