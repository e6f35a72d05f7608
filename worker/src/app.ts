/**
 * The edge worker as a Hono app, independent of the runtime it runs on.
 *
 *     const app = createApp(configFromEnv(process.env));
 *     serve({ fetch: app.fetch, port: 4318 });
 */
import type { ExportTraceServiceRequest } from '@rumkit/otlp';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { EdgeConfig } from './config.ts';
import { authenticate, KEY_HEADER } from './pipeline/auth.ts';
import { forward } from './pipeline/forward.ts';

export function createApp(config: EdgeConfig): Hono {
  const allowedOrigins = new Set(config.keys.flatMap((k) => k.origins));
  const app = new Hono();

  app.use(
    '/v1/*',
    cors({
      origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['content-type', 'content-encoding', KEY_HEADER],
      exposeHeaders: ['retry-after'],
      maxAge: 7200,
    }),
  );

  app.post('/v1/traces', async (c) => {
    const auth = authenticate(config.keys, c.req.header(KEY_HEADER) ?? c.req.query('key'), c.req.header('origin'));
    if (!auth.ok) return c.json({ error: auth.reason }, auth.status);
    let batch: ExportTraceServiceRequest;
    try {
      batch = await c.req.json();
    } catch {
      return c.json({ error: 'body is not OTLP/JSON' }, 400);
    }
    if (!Array.isArray(batch?.resourceSpans)) return c.json({ error: 'resourceSpans must be an array' }, 400);
    const result = await forward(config.upstreamUrl, batch);
    if (!result.ok) return c.json({ error: 'upstream unavailable' }, 503, { 'retry-after': '5' });
    return c.json({ partialSuccess: {} });
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  return app;
}
