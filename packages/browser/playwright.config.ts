/**
 * Browser tests of the agent in Debian's Chromium (Playwright cannot download browsers here). They use the
 * built package (dist/), so `npm test` builds first. One worker: the tests share fixed ports, and the
 * machine is shared.
 *
 *     npx playwright test -c packages/browser/playwright.config.ts
 */
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../../playwright.shared.ts';

export default defineConfig({
  testDir: 'test',
  testMatch: '*.spec.ts',
  workers: 1,
  forbidOnly: true,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? 'list' : [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: chromiumLaunchOptions,
  },
});
