/**
 * The whole worker inside workerd (the Cloudflare Workers runtime), with the bindings of the top-level
 * wrangler.toml emulated locally by Miniflare: Queue producer and consumer, KV, Rate Limiting. Nothing
 * remote is called; the worker forwards to an OTLP receiver started in Node by the global setup.
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineProject, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../vitest.shared.ts';
import { hashKey } from './src/config.ts';
import { FIXTURE_NOW_MS, SHOP_KEY, SHOP_ORIGIN } from './src/testing/config.ts';

/** The test tenant; the fixture batches carry fixed timestamps, hence the wide age limit. */
const config = `
tenants:
  - id: shop
    keys: [{ id: shop-web, keyHash: ${hashKey(SHOP_KEY)}, origins: [${SHOP_ORIGIN}] }]
upstream: { url: "\${RUMKIT_UPSTREAM_URL}", retry: { maxAttempts: 1 } }
limits: { maxBodyBytes: 131072, maxDecompressedBytes: 262144, maxAgeHours: ${Math.ceil((Date.now() - FIXTURE_NOW_MS) / 3600_000) + 24 * 365} }
rateLimit: { perKey: { ratePerSecond: 10000, burst: 10000 }, perIp: { ratePerSecond: 10000, burst: 10000 } }
metrics: { exportIntervalSeconds: 1 }
`;

export default mergeConfig(
  sharedConfig,
  defineProject({
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: '../wrangler.toml' },
        remoteBindings: false,
        miniflare: {
          bindings: {
            RUMKIT_CONFIG: config,
            RUMKIT_UPSTREAM_URL: inject('upstreamUrl'),
            RUMKIT_CONFIG_TTL_SECONDS: '0',
          },
        },
      })),
    ],
    test: {
      name: 'worker-workerd',
      include: ['src/**/*.workerd.test.ts'],
      globalSetup: ['src/testing/workerdGlobalSetup.ts'],
    },
  }),
);
