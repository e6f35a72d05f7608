/**
 * Runs in Node before the workerd tests: starts the OTLP receiver that the worker inside workerd forwards
 * to, hands its URL to the pool's Miniflare options (vitest.workerd.config.ts), and reads the fixture
 * batch the tests send (workerd has no file system).
 */
import type { TestProject } from 'vitest/node';
import { fixtureBytes } from './config.ts';
import { startReceiver } from './otlpReceiver.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    upstreamUrl: string;
    typicalJson: string;
  }
}

export default async function setup(project: TestProject) {
  const receiver = await startReceiver();
  project.provide('upstreamUrl', receiver.url);
  project.provide('typicalJson', new TextDecoder().decode(fixtureBytes('typical.json')));
  return () => receiver.stop();
}
