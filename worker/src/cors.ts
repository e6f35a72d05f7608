/**
 * CORS for the routes browsers call: the matched origin echoed with `Vary: Origin`, and preflights answered
 * with what the agent may send and how long to remember it.
 *
 *     app.use('/v1/traces', cors({ allowOrigin: (o) => origins.has(o), allowMethods, allowHeaders, exposeHeaders,
 *                                  maxAgeSeconds: 7200 }));
 *
 * Hono's own `cors` sets its headers on `c.res` before the handler runs, so Hono rebuilds the handler's answer
 * around them; on Node, @hono/node-server then turns that answer into a full web `Response` with a stream over
 * its body, 4 % of the worker's CPU per batch. The headers are set here with `c.header` instead, before any
 * answer exists, and every answer is made with them, errors too.
 */
import type { MiddlewareHandler } from 'hono';

export interface CorsOptions {
  allowOrigin(origin: string): boolean;
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  maxAgeSeconds: number;
}

export function cors(options: CorsOptions): MiddlewareHandler {
  const allowMethods = options.allowMethods.join(',');
  const allowHeaders = options.allowHeaders.join(',');
  const exposeHeaders = options.exposeHeaders.join(',');
  const maxAge = String(options.maxAgeSeconds);
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && options.allowOrigin(origin)) c.header('access-control-allow-origin', origin);
    c.header('access-control-expose-headers', exposeHeaders);
    // The answer depends on the origin whether or not this one was allowed: a cache must not hand it to another.
    c.header('vary', 'Origin', { append: true });
    if (c.req.method !== 'OPTIONS') return next();
    c.header('access-control-max-age', maxAge);
    c.header('access-control-allow-methods', allowMethods);
    c.header('access-control-allow-headers', allowHeaders);
    return c.body(null, 204);
  };
}
