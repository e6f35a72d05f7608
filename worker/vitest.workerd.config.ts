/**
 * The whole worker inside workerd (the Cloudflare Workers runtime), with the bindings of the top-level
 * wrangler.toml emulated locally by Miniflare: Queue producer and consumer, KV, Rate Limiting. Nothing
 * remote is called.
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.ts';

export default mergeConfig(
  sharedConfig,
  defineProject({
    plugins: [cloudflareTest({ wrangler: { configPath: '../wrangler.toml' }, remoteBindings: false })],
    test: { name: 'worker-workerd', include: ['src/**/*.workerd.test.ts'] },
  }),
);
