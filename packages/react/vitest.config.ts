/**
 * The package's Vitest tests against React 19 and React Router 8 (vitest.react-18.config.ts runs them against
 * React 18 and React Router 7). Each project tells its tests the versions of its line (test/support/reactLines.ts),
 * so they can check they ran those.
 */
import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';
import { REACT_19, type ReactLine } from './test/support/reactLines.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    reactVersions: ReactLine['versions'];
  }
}

export default mergeConfig(
  sharedConfig,
  defineProject({
    test: {
      name: 'react',
      include: ['src/**/*.test.{ts,tsx}'],
      environment: 'node',
      provide: { reactVersions: REACT_19.versions },
    },
  }),
);
