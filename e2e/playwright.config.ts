/**
 * End-to-end tests: Debian's Chromium drives the demo page; the tests then ask the real services
 * (Tempo, Prometheus) over their HTTP APIs what arrived. `npm run test:e2e` builds first.
 */
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../playwright.shared.ts';

export default defineConfig({
  testDir: 'specs',
  globalSetup: './harness/globalSetup.ts',
  // One stack serves every test; they run one at a time so its counters tell one story.
  workers: 1,
  fullyParallel: false,
  // Above the sum of one test's longest polls (the backbone's: 60 + 60 + 90 s, or 90 + 90 + 90 s for the third
  // party), so a missing span or edge fails with its poll's message rather than a bare timeout.
  timeout: 300_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  forbidOnly: true,
  use: {
    browserName: 'chromium',
    launchOptions: chromiumLaunchOptions,
    trace: 'retain-on-failure',
  },
  projects: [
    { name: 'demo', testIgnore: /operations\.spec\.ts$/ },
    // Checks the dashboards and alerts against what the demo specs left in the stack, so it runs after them.
    { name: 'operations', testMatch: /operations\.spec\.ts$/, dependencies: ['demo'] },
  ],
});
