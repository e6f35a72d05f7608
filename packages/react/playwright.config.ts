/**
 * Browser tests of `@rumkit/react` in Debian's Chromium, against a React page built with Vite (test/app) and a
 * small local receiver standing in for the rumkit edge (test/support/testServer.ts). `npm test` in this
 * package builds the page first.
 *
 *     npx playwright test -c packages/react/playwright.config.ts
 */
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../../playwright.shared.ts';

export default defineConfig({
  testDir: 'test',
  testMatch: '*.spec.ts',
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  forbidOnly: true,
  use: { browserName: 'chromium', launchOptions: chromiumLaunchOptions },
});
