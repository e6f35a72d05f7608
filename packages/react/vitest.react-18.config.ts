/**
 * The tests of vitest.config.ts again, against React 18 and React Router 7 (test/support/reactLines.ts):
 * react, react-dom and react-router resolve from packages/react-18-peers, for the tests and the sources alike.
 *
 *     npx vitest run --project react-18
 */
import { defineProject, mergeConfig } from 'vitest/config';
import { REACT_18 } from './test/support/reactLines.ts';
import { resolveReactFrom } from './test/support/resolveReactFrom.ts';
import react19 from './vitest.config.ts';

export default mergeConfig(
  react19,
  defineProject({
    plugins: [resolveReactFrom(REACT_18.packagesFrom)],
    test: { name: 'react-18', provide: { reactVersions: REACT_18.versions } },
  }),
);
