/** Where the services of one end-to-end run listen, handed from the global setup to the tests. */
import type { DemoUrls } from './startDemo.ts';

export type E2eUrls = DemoUrls & { tempo: string; prometheus: string; logDir: string };

export function e2eUrls(): E2eUrls {
  const json = process.env.RUMKIT_E2E;
  if (!json) throw new Error('RUMKIT_E2E is not set: run the end-to-end tests with `npm run test:e2e`');
  return JSON.parse(json) as E2eUrls;
}
