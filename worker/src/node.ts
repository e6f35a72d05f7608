/**
 * The edge worker on Node: `node worker/src/node.ts` with the configuration in the environment
 * (`PORT`, `HOST`, and the keys listed in config.ts).
 */
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import { ConfigError, configFromEnv } from './config.ts';

export function startNodeServer(env: Record<string, string | undefined> = process.env) {
  const app = createApp(configFromEnv(env));
  return serve({ fetch: app.fetch, port: Number(env.PORT ?? 4318), hostname: env.HOST ?? '127.0.0.1' });
}

if (import.meta.main) {
  try {
    const server = startNodeServer();
    const stop = () => server.close(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`rumkit-edge: ${error.message}`);
    process.exit(1);
  }
}
