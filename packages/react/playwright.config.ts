/**
 * Browser tests of `@rumkit/react` in Debian's Chromium, against a React page built with Vite (test/app) and a
 * small local receiver standing in for the rumkit edge (test/support/testServer.ts). One project per React line
 * (test/support/reactLines.ts), each against the page built with that line. `npm test` in this package builds
 * the pages first.
 *
 *     npx playwright test -c packages/react/playwright.config.ts --project react-18
 */
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../../playwright.shared.ts';
import { REACT_LINES, type ReactLine } from './test/support/reactLines.ts';

export default defineConfig<unknown, { reactLine: ReactLine }>({
  testDir: 'test',
  testMatch: '*.spec.ts',
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  forbidOnly: true,
  use: { browserName: 'chromium', launchOptions: chromiumLaunchOptions },
  projects: REACT_LINES.map((line) => ({ name: line.name, use: { reactLine: line } })),
});
