/**
 * The options `init()` accepts, checked once at the boundary so the rest of the agent trusts them. A key that is
 * not an option (a misspelling) is named in a console warning and ignored.
 *
 *     const settings = validateConfig(input); // a string naming the bad key, or the normalised settings
 *     if (typeof settings === 'string') console.error(settings);
 */
import type { Span } from '@rumkit/otlp';
import { storageScope } from './lib/storageScope.ts';
import type { Feature } from './xhr/index.ts';

export type UrlPattern = string | RegExp;
export type AttributeValue = string | number | boolean;

export interface RumkitConfig {
  /** Base URL of the rumkit edge worker, e.g. `https://rum.example.com`. */
  endpoint: string;
  /** The app's public ingest key (the edge binds it to the page's origin). */
  apiKey: string;
  /**
   * A short-lived sender token your backend minted for this page, for a key the edge requires one for
   * (`tokenSecret`); `setToken()` renews it on a long-lived page.
   */
  token?: string;
  /** `service.name` of every span, e.g. `shop-web`. */
  serviceName: string;
  /** `service.version`, e.g. the release or commit of the page. */
  serviceVersion?: string;
  /** `deployment.environment.name`, e.g. `production`. */
  environment?: string;
  /** Share of traces kept, 0…1 (default 1). Decided by the trace id, the same way on the edge and the backend. */
  sampleRate?: number;
  /**
   * Backends that receive `traceparent`/`tracestate` on fetch (and XHR). A string matches that URL and every
   * URL below it (`'https://api.example.com'` matches `https://api.example.com/orders`, not
   * `https://api.example.com.evil.test`); a RegExp is tested against the full URL. Default: none besides the
   * page's own origin, which always receives them (OpenTelemetry's web instrumentations do so).
   */
  propagateTraceHeaderCorsUrls?: UrlPattern[];
  /** Requests that get no span at all (same matching). The agent's own requests are always ignored. */
  ignoreUrls?: UrlPattern[];
  /** Attributes added to every span, e.g. `{ 'app.tenant': 'acme' }`. */
  attributes?: Record<string, AttributeValue>;
  /**
   * Sees every finished span as OTLP/JSON just before it is queued; return it (changed or not) to send it,
   * or `null` to drop it. A `beforeSend` that throws, or returns what JSON cannot encode (a BigInt, a cycle),
   * drops the span.
   */
  beforeSend?: (span: Span) => Span | null | undefined;
  /** Logs what the agent drops or retries with `console.debug`. */
  debug?: boolean;
  /** Path of the traces endpoint below `endpoint` (default `/v1/traces`). */
  tracesPath?: string;
  /** `XMLHttpRequest` spans: pass the `xhr` export of `@rumkit/browser/xhr` (script tag: `data-xhr`). */
  xhr?: Feature;
}

/** The validated configuration, with defaults applied and URL patterns compiled. */
export interface Settings extends RumkitConfig {
  tracesUrl: string;
  /** Where the edge tells its sampling rate for the key (`GET /v1/config`). */
  rateUrl: string;
  /** The end of the `localStorage` keys of what the agent keeps for this edge and key (`storageScope`). */
  scope: string;
  sampleRate: number;
  propagateTraceHeaderCorsUrls: RegExp[];
  ignoreUrls: RegExp[];
  attributes: Record<string, AttributeValue>;
}

const optional = (check: (v: unknown) => boolean) => (v: unknown) => v === undefined || check(v);
const isString = (v: unknown) => typeof v === 'string' && v !== '';
const isUrl = (v: unknown) => {
  // URL.canParse is too new for the browsers the agent supports.
  try {
    return typeof v === 'string' && !!new URL(v);
  } catch {
    return false;
  }
};
const isPatternList = (v: unknown) =>
  Array.isArray(v) && v.every((p) => (typeof p === 'string' && p !== '') || p instanceof RegExp);
const isType = (type: string) => (v: unknown) => typeof v === type;

const A_STRING = 'be a non-empty string';
const A_LIST = 'be an array of URL strings or RegExps';
/** Each key with its check and the message's "must …" part. */
const RULES: Array<[keyof RumkitConfig, (v: unknown) => boolean, string]> = [
  ['endpoint', isUrl, 'be an absolute URL'],
  ['apiKey', isString, A_STRING],
  ['token', optional(isString), A_STRING],
  ['serviceName', isString, A_STRING],
  ['serviceVersion', optional(isString), A_STRING],
  ['environment', optional(isString), A_STRING],
  ['sampleRate', optional((v) => typeof v === 'number' && v >= 0 && v <= 1), 'be a number from 0 to 1'],
  ['propagateTraceHeaderCorsUrls', optional(isPatternList), A_LIST],
  ['ignoreUrls', optional(isPatternList), A_LIST],
  [
    'attributes',
    optional(
      (v) =>
        !!v &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        Object.values(v).every((a) => ['string', 'number', 'boolean'].includes(typeof a)),
    ),
    'be an object of string, number or boolean values',
  ],
  ['beforeSend', optional(isType('function')), 'be a function'],
  ['debug', optional(isType('boolean')), 'be a boolean'],
  ['tracesPath', optional((v) => /^\//.test(v as string)), "be a path starting with '/'"],
  ['xhr', optional((v) => typeof (v as Feature).start === 'function'), "be the xhr export of '@rumkit/browser/xhr'"],
];

/** Whether `key` names one of the options above. */
export const isOption = (key: string): boolean => RULES.some(([option]) => option === key);

export function validateConfig(input: unknown): Settings | string {
  const config = Object(input) as RumkitConfig;
  // A misspelt option (`propagateTraceHeaderCorsURLs`) would otherwise change nothing without a word.
  for (const key in config) if (!isOption(key)) console.warn(`rumkit: config.${key} is not an option; ignored`);
  for (const [key, check, must] of RULES) {
    if (!check(config[key])) return `rumkit: config.${key} must ${must}`;
  }
  const endpoint = config.endpoint.replace(/\/+$/, '');
  const tracesUrl = endpoint + (config.tracesPath ?? '/v1/traces');
  const rateUrl = `${endpoint}/v1/config`;
  return {
    ...config,
    endpoint,
    tracesUrl,
    rateUrl,
    scope: storageScope(endpoint, config.apiKey),
    sampleRate: config.sampleRate ?? 1,
    propagateTraceHeaderCorsUrls: (config.propagateTraceHeaderCorsUrls ?? []).map(urlPattern),
    // The agent's own requests must never become spans (every export would produce another), and only they:
    // an endpoint on the page's own origin must not hide the page's requests.
    ignoreUrls: [tracesUrl, rateUrl, ...(config.ignoreUrls ?? [])].map(urlPattern),
    attributes: config.attributes ?? {},
  };
}

/** The key and sender token as the agent's requests carry them: in the query, since beacons send no headers. */
export const credentialsQuery = (settings: Settings): string =>
  `key=${encodeURIComponent(settings.apiKey)}${settings.token ? `&token=${encodeURIComponent(settings.token)}` : ''}`;

/**
 * A string becomes "this URL or anything below it": a bare prefix would let `https://api.example.com` match
 * `https://api.example.com.evil.test` and leak trace context to it.
 */
export function urlPattern(pattern: UrlPattern): RegExp {
  // Without `g` and `y`: `test()` on such a pattern resumes where its last match ended, and misses every other time.
  if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}${/[/?#]$/.test(pattern) ? '' : '(?:[/?#]|$)'}`);
}
