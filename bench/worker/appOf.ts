/**
 * The whole worker app of a checkout, for the benchmarks that time `app.request`: delivering into nothing, with
 * the rate limits out of the way. Loaded by path, so that compare.ts can time another checkout's app beside this
 * one's.
 *
 *     const { app, key } = await appOf(repositoryRoot);
 */
import { join } from 'node:path';

interface App {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}

/** The app of the checkout at `root`, delivering into nothing, with rate limits out of the way. */
export async function appOf(root: string): Promise<{ app: App; key: string }> {
  const load = (file: string) => import(join(root, 'worker/src', file));
  const [{ createApp }, { createLogger }, { createTelemetry }, testing, { memoryRuntime }] = await Promise.all([
    load('app.ts'),
    load('log.ts'),
    load('telemetry/telemetry.ts'),
    load('testing/config.ts'),
    load('testing/runtime.ts'),
  ]);
  const config = testing.testConfig({ rateLimit: { perKey: { ratePerSecond: 1e9, burst: 1e9 } } });
  const { runtime } = memoryRuntime({ now: () => testing.FIXTURE_NOW_MS });
  runtime.deliver = async () => undefined;
  const app = createApp(
    config,
    runtime,
    createTelemetry(config, 0),
    createLogger('warn', () => {}),
  );
  return { app, key: testing.SHOP_KEY };
}
