/**
 * Drives a demo page in the browser as a user would: the React page (`/`, `@rumkit/react`) and the plain-HTML
 * page (`/plain.html`, the agent by script tag) have the same form, so every helper works on both.
 *
 *   const { traceId, traceUrl } = await uploadDocument(page, `${urls.web}/plain.html`);
 *   await closeTab(page);
 */
import { expect, type Page } from '@playwright/test';

export const DEMO_PAGES = [
  { form: 'React page (@rumkit/react)', path: '/' },
  { form: 'plain-HTML page (script tag)', path: '/plain.html' },
] as const;

/** Uploads a small text document and returns the trace id the API reported and the page's link to it. */
export async function uploadDocument(page: Page, pageUrl: string): Promise<{ traceId: string; traceUrl: string }> {
  await page.goto(pageUrl);
  await page.locator('#file').setInputFiles({
    name: 'invoice-42.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('Invoice 42\nTotal due: 99.00 EUR\n'.repeat(400)),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  const traceLink = page.locator('#result-trace');
  await expect(traceLink).toHaveText(/^[0-9a-f]{32}$/);
  return {
    traceId: (await traceLink.textContent()) as string,
    traceUrl: (await traceLink.getAttribute('href')) as string,
  };
}

/** Closing the tab is what users do; the agent must deliver what it holds (web vitals too) on pagehide. */
export async function closeTab(page: Page): Promise<void> {
  // With runBeforeUnload, close() returns before the page has gone; wait for that too.
  await Promise.all([page.waitForEvent('close'), page.close({ runBeforeUnload: true })]);
}
