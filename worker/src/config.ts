/**
 * The worker's one configuration schema, validated once at start-up: a bad value stops the worker with a
 * message naming the key (`tenants[0].keys[1].keyHash: expected sha256:<64 hex digits>`).
 *
 *     const config = parseConfig(YAML.parse(text), process.env);   // throws ConfigError
 *
 * Every runtime builds the same raw object: Node from a YAML file (`rumkit-edge --config rumkit.yaml`) or,
 * for a single key, from environment variables (`configFromEnv`); Cloudflare from a var, a KV entry and
 * secrets. `${NAME}` anywhere in a string value is replaced by that environment variable or secret (and
 * `${NAME:-fallback}` by the fallback when it is unset), so tokens never have to sit in the file.
 */
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import YAML from 'yaml';
import { backtrackingShape } from './backtrackingShape.ts';
import { DEFAULT_TRUSTED_PROXIES, parseBlock } from './trustedPeers.ts';

const sha256Hash = v.pipe(
  v.string(),
  v.regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex digits> (see `rumkit-edge hash-key`)'),
);

const origin = v.pipe(
  v.string(),
  v.check(
    (o) => URL.canParse(o) && new URL(o).origin === o,
    'expected an origin such as https://shop.example.com (scheme, host, optional port; no path)',
  ),
);

/** A number, or a string spelling one (what `${PORT}` substitutes to). */
const numeric = v.union(
  [v.number(), v.pipe(v.string(), v.regex(/^-?\d+(?:\.\d+)?$/), v.transform(Number))],
  'expected a number',
);
const positiveInt = (fallback: number) => v.optional(v.pipe(numeric, v.integer(), v.minValue(1)), fallback);
const nonNegative = (fallback: number) => v.optional(v.pipe(numeric, v.minValue(0)), fallback);
const rate = (fallback: number) => v.optional(v.pipe(numeric, v.minValue(0), v.maxValue(1)), fallback);
const secret = v.pipe(v.string(), v.minLength(16, 'expected at least 16 characters'));

const KeySchema = v.strictObject({
  /** Names the key in logs and metrics; the key itself never appears anywhere but in the page. */
  id: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/, 'expected 1–64 letters, digits, _ . or -')),
  keyHash: sha256Hash,
  /** Page origins allowed to use the key (the `Origin` header); a request without `Origin` is allowed. */
  origins: v.optional(v.array(origin), []),
  disabled: v.optional(v.boolean(), false),
  /** When set, requests must also carry an HMAC token minted with this secret by the site's backend. */
  tokenSecret: v.optional(secret),
});

/** `\1`, `\k<name>` or `(?<name>…)` in a pattern, once escaped backslashes (`\\`) are taken out. */
const GROUP_REFERENCE = /\\(?:[1-9]|k<)|\(\?<(?![=!])/;

const ScrubMethod = v.picklist(['remove', 'replace', 'mask', 'hash']);

function compiled(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

/** `backtrackingShape`, read once per pattern for the checks below (a long pattern takes milliseconds). */
const shapes = new Map<string, ReturnType<typeof backtrackingShape>>();
function shapeOf(pattern: string): ReturnType<typeof backtrackingShape> {
  if (!shapes.has(pattern)) shapes.set(pattern, compiled(pattern) ? backtrackingShape(pattern) : undefined);
  return shapes.get(pattern);
}

/**
 * Whether a pattern matches the empty string somewhere, as `\b` or `(?=\d)` do where text starts or between two
 * characters, not only in empty text: read over a few short texts of each kind of character.
 */
function matchesEmpty(pattern: string): boolean {
  const regex = compiled(pattern);
  if (!regex) return false;
  const global = new RegExp(regex.source, 'g');
  return ['', 'a', '1', ' ', '-', 'a1 b-2.c@d/e'].some((text) =>
    [...text.matchAll(global)].some((match) => match[0] === ''),
  );
}

const ScrubRuleSchema = v.pipe(
  v.strictObject({
    name: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/, 'expected 1–64 letters, digits, _ . or -')),
    /** A regular expression (JavaScript syntax) whose matches are redacted… */
    pattern: v.optional(
      v.pipe(
        v.string(),
        v.check((p) => compiled(p) !== undefined, 'expected a valid JavaScript regular expression'),
        v.check(
          (p) => shapeOf(p) !== 'nested repeats',
          'a repeated group with a repeat inside, such as (\\w+\\s?)+, can take seconds on one string: rewrite it without the nesting',
        ),
        v.check(
          (p) => shapeOf(p) !== 'too deep',
          'groups nest too deep to be checked for backtracking (more than 64 levels)',
        ),
        v.check(
          (p) => shapeOf(p) !== 'overlapping alternatives',
          'a repeated group whose turns can match the same text in more than one way, such as (a|aa)+, (\\w|\\d)* or (\\d\\d?)+, can take seconds on one string: make its alternatives start differently, or use a character class',
        ),
        v.check(
          (p) => !matchesEmpty(p),
          'the pattern matches the empty string, so it would redact between every character',
        ),
        v.check(
          (p) => !GROUP_REFERENCE.test(p.replaceAll('\\\\', '')),
          'backreferences and named groups are not supported (every pattern runs inside one combined expression, where they would point at other groups)',
        ),
      ),
    ),
    /** …or the whole value of these attribute keys (or query parameters) is. */
    keys: v.optional(v.array(v.string())),
    method: v.optional(ScrubMethod, 'replace'),
    replacement: v.optional(v.string()),
  }),
  v.check((rule) => rule.pattern !== undefined || rule.keys !== undefined, 'a rule needs a pattern or keys'),
);

const ScrubSchema = v.strictObject({
  enabled: v.optional(v.boolean(), true),
  /** Built-in rules to switch off by name (email, creditcard, iban, ssn, …). */
  disable: v.optional(v.array(v.string()), []),
  /** Built-in rules whose method to change, such as `{ ipv4: hash }`. */
  methods: v.optional(v.record(v.string(), ScrubMethod), {}),
  rules: v.optional(v.array(ScrubRuleSchema), []),
  /** Attribute keys never scrubbed (besides the built-in safe list of random ids and the user agent). */
  safeKeys: v.optional(v.array(v.string()), []),
  /** Extra words that make an attribute key or query parameter sensitive ('' would make every one sensitive). */
  sensitiveKeys: v.optional(v.array(v.pipe(v.string(), v.minLength(1, 'expected a word, not an empty string'))), []),
  /** Secret for the `hash` method, so hashes cannot be reversed by hashing guesses. */
  hashSecret: v.optional(secret),
});

const TenantSchema = v.strictObject({
  id: v.pipe(v.string(), v.regex(/^[\w-]{1,64}$/, 'expected 1–64 letters, digits, _ or -')),
  /** Share of traces kept, the same for the browser (via /v1/config) and the edge. */
  sampleRate: rate(1),
  keys: v.pipe(v.array(KeySchema), v.minLength(1, 'a tenant needs at least one key')),
  /** Rules added to the deployment-wide ones for this tenant only. */
  scrubRules: v.optional(v.array(ScrubRuleSchema), []),
});

const BucketSchema = (ratePerSecond: number, burst: number) =>
  v.optional(v.strictObject({ ratePerSecond: nonNegative(ratePerSecond), burst: positiveInt(burst) }), {});

const ConfigSchema = v.strictObject({
  server: v.optional(
    v.strictObject({
      host: v.optional(v.string(), '127.0.0.1'),
      port: v.optional(v.pipe(numeric, v.integer(), v.minValue(0), v.maxValue(65535)), 4318),
      /** A neutral second path for POST /v1/traces, since filter lists block well-known ones. */
      tracesAlias: v.optional(v.pipe(v.string(), v.regex(/^\/[\w/.-]*$/, 'expected a path such as /t')), '/t'),
      /**
       * Header set by a trusted reverse proxy that carries the client address (Node only). A list such as
       * X-Forwarded-For is read from the right, past the trusted proxies' entries (`clientAddress`).
       */
      clientIpHeader: v.optional(v.string()),
      /**
       * The peers whose `clientIpHeader` and geography headers count (Node): addresses or CIDR blocks. Others'
       * are ignored, and the peer's own address is the client's.
       */
      trustedProxies: v.optional(
        v.array(
          v.pipe(
            v.string(),
            v.check((cidr) => parseBlock(cidr) !== undefined, 'expected an address or CIDR block'),
          ),
        ),
        DEFAULT_TRUSTED_PROXIES,
      ),
      /** When set, `/metrics` (Node) answers only `Authorization: Bearer <token>`: it names tenants and routes. */
      metricsToken: v.optional(secret),
      /**
       * How long a stopping worker (Node) lets requests under way finish before it cuts their connections; a
       * slow upload or a browser's idle preconnect would otherwise hold the stop, and the spooling, forever.
       */
      shutdownGraceSeconds: nonNegative(5),
    }),
    {},
  ),
  tenants: v.pipe(v.array(TenantSchema), v.minLength(1, 'at least one tenant is required')),
  limits: v.optional(
    v.strictObject({
      /** Largest request body as sent (compressed or not). */
      maxBodyBytes: positiveInt(512 * 1024),
      /** Largest body after gunzip. */
      maxDecompressedBytes: positiveInt(4 * 1024 * 1024),
      /**
       * Largest size after gunzip as a multiple of the size sent, above 256 KiB: OTLP/JSON compresses about 9×,
       * and a body that inflates 1000× (a 4 KB request costing 200 ms of decoding) is an attack, not a batch.
       */
      maxCompressionRatio: positiveInt(64),
      maxSpansPerBatch: positiveInt(1000),
      maxAttributes: positiveInt(128),
      maxAttributeValueLength: positiveInt(4096),
      /** Bounded: the validator and the protobuf decoder recurse per level, and 2,000 levels overflow the stack. */
      maxDepth: v.optional(v.pipe(numeric, v.integer(), v.minValue(1), v.maxValue(64)), 8),
      maxFutureSeconds: nonNegative(60),
      maxAgeHours: nonNegative(72),
    }),
    {},
  ),
  rateLimit: v.optional(
    v.strictObject({
      perKey: BucketSchema(200, 400),
      perIp: BucketSchema(20, 60),
      /** Buckets kept; the least recently used one is handed to the next new address. */
      maxTrackedClients: positiveInt(50_000),
    }),
    {},
  ),
  scrub: v.optional(ScrubSchema, {}),
  enrich: v.optional(
    v.strictObject({
      userAgent: v.optional(v.boolean(), true),
      geo: v.optional(v.boolean(), true),
      /** Node only: headers a trusted proxy sets with the client's country and region. */
      geoHeaders: v.optional(v.strictObject({ country: v.optional(v.string()), region: v.optional(v.string()) }), {}),
      /** Batches whose sender clock is off by more than this are shifted onto the edge's clock. */
      clockSkewThresholdMs: nonNegative(1000),
    }),
    {},
  ),
  upstream: v.strictObject({
    /** Base URL of the collector's OTLP/HTTP receiver; requests go to <url>/v1/traces and /v1/metrics. */
    url: v.pipe(
      v.string(),
      v.check((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'expected an http(s) URL'),
      // fetch() refuses URLs with credentials, and the URL is logged at start-up: the token has its own key.
      v.check((u) => {
        const { username, password } = new URL(u);
        return !username && !password;
      }, 'must not carry credentials (user:password@); give the collector token as upstream.bearerToken'),
      // The paths are appended: `…/?tenant=a` would send everything to `/?tenant=a/v1/traces`, answered 404.
      v.check((u) => !/[?#]/.test(u), 'must not carry a query or fragment: requests go to <url>/v1/traces'),
      v.transform((u) => u.replace(/\/+$/, '')),
    ),
    protocol: v.optional(v.picklist(['protobuf', 'json']), 'protobuf'),
    /** Bearer token for the collector; empty means none. */
    bearerToken: v.optional(v.string()),
    /** Send the tenant id as X-Scope-OrgID (Tempo multi-tenancy). */
    scopeOrgId: v.optional(v.boolean(), true),
    timeoutMs: positiveInt(10_000),
    retry: v.optional(
      v.strictObject({
        maxAttempts: positiveInt(3),
        initialBackoffMs: positiveInt(200),
        maxBackoffMs: positiveInt(5000),
      }),
      {},
    ),
    circuitBreaker: v.optional(v.strictObject({ failureThreshold: positiveInt(5), openSeconds: nonNegative(5) }), {}),
  }),
  queue: v.optional(
    v.strictObject({
      /** Batches held in memory before new ones go to the spool (Node). */
      maxMemoryBatches: positiveInt(500),
      /** The bytes those batches may take together (Node). */
      maxMemoryBytes: positiveInt(128 * 1024 * 1024),
      /** Directory of the on-disk spool (Node); without it, past memory the worker answers 503. */
      spoolDir: v.optional(v.string()),
      maxSpoolBytes: positiveInt(1024 * 1024 * 1024),
      /**
       * Flush each spool file and its directory to the disk before the batch is acknowledged (Node): a power cut then
       * loses none. It makes a spooled batch cost about 0.4 ms more here (bench/worker/RESULTS.md); without a disk
       * that outlives the machine (a container's), there is nothing to keep.
       */
      fsync: v.optional(v.boolean(), true),
      /** A batch still undeliverable after this long is dropped and counted (Node). */
      maxRetrySeconds: positiveInt(3600),
      concurrency: positiveInt(16),
      /**
       * Queued protobuf batches of one tenant go out as one export of up to this many bytes (on Cloudflare, the
       * batches of one Queue delivery): an export per batch costs more CPU than any stage of the pipeline.
       */
      mergeMaxBytes: positiveInt(1024 * 1024),
      /**
       * How long a new batch waits for others to merge with (Node). By default none: batches merge only when they
       * queue anyway (the senders busy, the collector slow or down). A wait keeps every batch alive long enough
       * for V8 to move it to the old generation, whose collections then added 10 ms to the p99 at 400 req/s.
       */
      mergeDelayMs: nonNegative(0),
      /**
       * The most of the queue (memory batches and bytes, spool bytes) one tenant may hold when there are two or
       * more (Node): a tenant whose exports the upstream refuses (its own quota at Tempo) fills its share and hears
       * 503, and the others keep the rest.
       */
      maxTenantShare: v.optional(v.pipe(numeric, v.minValue(0.01), v.maxValue(1)), 0.5),
    }),
    {},
  ),
  metrics: v.optional(
    v.strictObject({
      /** Export the edge's own and the RUM metrics to <upstream>/v1/metrics this often; 0 turns it off. */
      exportIntervalSeconds: nonNegative(15),
      /** Largest number of label sets per metric; more are folded into `other`. */
      maxSeriesPerMetric: positiveInt(2000),
    }),
    {},
  ),
  log: v.optional(v.strictObject({ level: v.optional(v.picklist(['debug', 'info', 'warn', 'error']), 'info') }), {}),
});

export type EdgeConfig = v.InferOutput<typeof ConfigSchema>;
export type TenantConfig = EdgeConfig['tenants'][number];
export type KeyConfig = TenantConfig['keys'][number];
export type ScrubConfig = EdgeConfig['scrub'];
export type ScrubRuleConfig = v.InferOutput<typeof ScrubRuleSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The configuration text (YAML or JSON) as an object, for `parseConfig`; `source` names it in the error. Without
 * YAML's pretty errors, whose message quotes the line at fault: it may hold a token written in.
 */
export function readConfigText(text: string, source: string): unknown {
  try {
    return YAML.parse(text, { prettyErrors: false });
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
}

/** Validates a raw configuration object after substituting `${NAME}` from `env`. */
export function parseConfig(raw: unknown, env: Record<string, string | undefined> = {}): EdgeConfig {
  const result = v.safeParse(ConfigSchema, substituteEnv(raw, env, ''));
  if (!result.success) {
    const messages = result.issues.slice(0, 5).map((issue) => `${issuePath(issue)}: ${issueMessage(issue)}`);
    throw new ConfigError(messages.join('\n'));
  }
  checkUnique(result.output);
  return result.output;
}

/**
 * One tenant with one key from environment variables, for quick starts and the end-to-end harness:
 * `RUMKIT_API_KEY` (the key itself, hashed here), `RUMKIT_ALLOWED_ORIGINS` (comma-separated),
 * `RUMKIT_UPSTREAM_URL`, and optionally `RUMKIT_TENANT`, `RUMKIT_SAMPLE_RATE`, `RUMKIT_UPSTREAM_TOKEN`,
 * `RUMKIT_SPOOL_DIR` (without it a restart can lose what the memory queue holds).
 */
export function configFromEnv(env: Record<string, string | undefined>): EdgeConfig {
  const key = required(env, 'RUMKIT_API_KEY');
  const origins = (env.RUMKIT_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return parseConfig({
    server: { ...(env.PORT ? { port: Number(env.PORT) } : {}), ...(env.HOST ? { host: env.HOST } : {}) },
    tenants: [
      {
        id: env.RUMKIT_TENANT ?? 'default',
        ...(env.RUMKIT_SAMPLE_RATE ? { sampleRate: Number(env.RUMKIT_SAMPLE_RATE) } : {}),
        keys: [{ id: 'env', keyHash: hashKey(key), origins }],
      },
    ],
    upstream: {
      url: required(env, 'RUMKIT_UPSTREAM_URL'),
      ...(env.RUMKIT_UPSTREAM_TOKEN ? { bearerToken: env.RUMKIT_UPSTREAM_TOKEN } : {}),
    },
    ...(env.RUMKIT_SPOOL_DIR ? { queue: { spoolDir: env.RUMKIT_SPOOL_DIR } } : {}),
  });
}

/** The form in which a key is stored in the configuration. */
export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

function substituteEnv(value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => {
      const replacement = env[name] ?? fallback;
      if (replacement === undefined) throw new ConfigError(`${path || '(root)'}: \${${name}} is not set`);
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, item]) => [k, substituteEnv(item, env, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}

function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = item.key as string | number;
    out += typeof key === 'number' ? `[${key}]` : out ? `.${key}` : key;
  }
  return out || '(root)';
}

/** Settings whose values are secrets: a message about one must not quote it (it goes to logs and `wrangler tail`). */
const SECRET_SETTING = /token|secret/i;

function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object' && issue.expected === 'never') return 'is not a known setting';
  const key = issue.path?.at(-1)?.key;
  if (typeof key === 'string' && SECRET_SETTING.test(key) && issue.received) {
    return issue.message.replaceAll(issue.received, '(a value not shown)');
  }
  return issue.message;
}

function checkUnique(config: EdgeConfig): void {
  const tenants = new Set<string>();
  const keyIds = new Set<string>();
  const hashes = new Set<string>();
  config.tenants.forEach((tenant, t) => {
    if (tenants.has(tenant.id)) throw new ConfigError(`tenants[${t}].id: '${tenant.id}' is used twice`);
    tenants.add(tenant.id);
    tenant.keys.forEach((key, k) => {
      // One key, one tenant: a key listed under two tenants could write into either.
      if (hashes.has(key.keyHash)) throw new ConfigError(`tenants[${t}].keys[${k}].keyHash: the key is used twice`);
      if (keyIds.has(key.id)) throw new ConfigError(`tenants[${t}].keys[${k}].id: '${key.id}' is used twice`);
      hashes.add(key.keyHash);
      keyIds.add(key.id);
    });
  });
}
