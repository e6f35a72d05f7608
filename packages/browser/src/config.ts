/** The options `init()` accepts, checked once at the boundary so the rest of the agent trusts them. */

export interface RumkitConfig {
  /** Base URL of the rumkit edge worker; spans go to `${endpoint}/v1/traces`. */
  endpoint: string;
  /** The app's public ingest key (it is bound to the page's origin on the edge). */
  apiKey: string;
  serviceName: string;
  /** Backends that may receive `traceparent`/`tracestate`; every other origin gets none. */
  propagateTraceHeaderCorsUrls?: Array<string | RegExp>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function validateConfig(input: unknown): RumkitConfig {
  if (typeof input !== 'object' || input === null) throw new ConfigError('rumkit: init() needs a config object');
  const config = input as Record<string, unknown>;
  for (const key of ['endpoint', 'apiKey', 'serviceName'] as const) {
    if (typeof config[key] !== 'string' || config[key] === '') {
      throw new ConfigError(`rumkit: config.${key} must be a non-empty string`);
    }
  }
  try {
    new URL(config.endpoint as string);
  } catch {
    throw new ConfigError('rumkit: config.endpoint must be an absolute URL');
  }
  const urls = config.propagateTraceHeaderCorsUrls;
  if (urls !== undefined && !(Array.isArray(urls) && urls.every((u) => typeof u === 'string' || u instanceof RegExp))) {
    throw new ConfigError('rumkit: config.propagateTraceHeaderCorsUrls must be an array of strings or RegExps');
  }
  return config as unknown as RumkitConfig;
}
