/** The worker's configuration, read once at start-up; a bad value stops it with a message naming the key. */

export interface EdgeConfig {
  /** Public ingest keys the browser agents send, each bound to the page origins allowed to use it. */
  keys: Array<{ key: string; origins: string[] }>;
  /** Base URL of the OpenTelemetry Collector's OTLP/HTTP receiver; never taken from a request. */
  upstreamUrl: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `RUMKIT_API_KEY`, `RUMKIT_ALLOWED_ORIGINS` (comma-separated) and `RUMKIT_UPSTREAM_URL`. */
export function configFromEnv(env: Record<string, string | undefined>): EdgeConfig {
  const key = required(env, 'RUMKIT_API_KEY');
  const origins = required(env, 'RUMKIT_ALLOWED_ORIGINS')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new ConfigError(`RUMKIT_ALLOWED_ORIGINS: '${origin}' is not an origin such as https://shop.example.com`);
    }
  }
  const upstreamUrl = required(env, 'RUMKIT_UPSTREAM_URL');
  if (!URL.canParse(upstreamUrl)) throw new ConfigError('RUMKIT_UPSTREAM_URL must be an absolute URL');
  return { keys: [{ key, origins }], upstreamUrl: upstreamUrl.replace(/\/$/, '') };
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}
