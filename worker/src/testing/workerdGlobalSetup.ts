/**
 * Runs in Node before the workerd tests: starts the OTLP receiver that the worker inside workerd forwards
 * to, hands its URL to the pool's Miniflare options (vitest.workerd.config.ts), and reads what the tests need
 * from files (workerd has no file system): the fixture batch they send, and the Queue consumer's `max_retries`
 * as wrangler reads wrangler.toml.
 */
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { unstable_readConfig } from 'wrangler';
import { fixtureBytes } from './config.ts';
import { startReceiver } from './otlpReceiver.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    upstreamUrl: string;
    typicalJson: string;
    queueMaxRetries: number | undefined;
  }
}

export default async function setup(project: TestProject) {
  const receiver = await startReceiver();
  project.provide('upstreamUrl', receiver.url);
  project.provide('typicalJson', new TextDecoder().decode(fixtureBytes('typical.json')));
  const wrangler = unstable_readConfig({ config: fileURLToPath(new URL('../../../wrangler.toml', import.meta.url)) });
  project.provide('queueMaxRetries', wrangler.queues.consumers?.[0]?.max_retries);
  return () => receiver.stop();
}
