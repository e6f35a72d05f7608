/**
 * The Playwright `test` for this package: starts the test servers once per worker, clears what they
 * recorded before each test, and fails a test when a page throws an error the page itself did not
 * expect (the agent must never break the host page).
 *
 *     import { expect, test } from './support/fixtures.ts';
 *     test('…', async ({ page, servers }) => { … });
 */
import { test as base, expect, type Page } from '@playwright/test';
import { EDGE_RATE_KEY } from '../../src/edgeRate.ts';
import { storageScope } from '../../src/lib/storageScope.ts';
import { QUEUE_PREFIX } from '../../src/transport/persistentQueue.ts';
import { ORIGINS, type Servers, startServers, waitFor } from './servers.ts';

/** The end of the `localStorage` keys of the test pages' agent (`esmPage`: the test edge, key `pk_test`). */
export const TEST_SCOPE = storageScope(ORIGINS.edge, 'pk_test');
/** Where that agent keeps the edge's rate, and the key of a body stored for it. */
export const RATE_KEY = `${EDGE_RATE_KEY}.${TEST_SCOPE}`;
export const STORED_BODY_KEY = `${QUEUE_PREFIX}${TEST_SCOPE}.0`;

export const test = base.extend<{ pageErrors: string[]; consoleErrors: string[] }, { servers: Servers }>({
  servers: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright's fixture signature needs the first argument.
    async ({}, use) => {
      const servers = await startServers();
      await use(servers);
      await servers.close();
    },
    { scope: 'worker' },
  ],
  pageErrors: [
    async ({ page, servers }, use) => {
      servers.reset();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await use(errors);
      // Close the page here, and let its last beacons land, so they cannot reach the next test's receiver.
      if (!page.isClosed()) await page.close({ runBeforeUnload: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      // A test whose page throws on purpose takes those errors out of the list once it has checked them.
      expect(errors, 'errors thrown in the page').toEqual([]);
    },
    { auto: true },
  ],
  /** What the page logged with `console.error`: the agent's reports of its own failures. */
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await use(errors);
  },
});

/** Waits for the page's agent (`window.rum`, set by esmPage) and flushes it. */
export async function flushAgent(page: Page): Promise<void> {
  await page.waitForFunction(() => 'rum' in window);
  await page.evaluate(() => (window as unknown as { rum: { flush(): Promise<void> } }).rum.flush());
}

/**
 * Serves `html` at `path`, opens it, and waits for its documentLoad span: the agent's chunk loaded after `load`
 * (document load, web vitals) is running, and what the page sent at start-up has arrived.
 */
export async function openLoadedPage(page: Page, servers: Servers, path: string, html: string): Promise<void> {
  servers.app.pages.set(path, html);
  await page.goto(`${ORIGINS.app}${path}`);
  await waitFor(() => servers.edge.spans().some((s) => s.name === 'documentLoad'), 15_000, 'documentLoad span');
}

/** Every body the page's origin has stored for a next page, joined. */
export function storedBodies(page: Page): Promise<string> {
  return page.evaluate((prefix) => {
    const keys = Object.keys(localStorage).filter((key) => key.startsWith(prefix));
    return keys.map((key) => localStorage.getItem(key)).join('\n');
  }, QUEUE_PREFIX);
}

export { expect };
