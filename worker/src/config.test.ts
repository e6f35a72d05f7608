// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the configuration's own substitution syntax.
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv, hashKey, parseConfig } from './config.ts';

const minimal = {
  tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: hashKey('k') }] }],
  upstream: { url: 'http://127.0.0.1:4318/' },
};

describe('parseConfig', () => {
  it('fills every optional setting with its default', () => {
    const config = parseConfig(minimal);
    expect(config.upstream.url).toBe('http://127.0.0.1:4318');
    expect(config.upstream.protocol).toBe('protobuf');
    expect(config.limits.maxBodyBytes).toBe(512 * 1024);
    expect(config.tenants[0]?.sampleRate).toBe(1);
    expect(config.scrub.enabled).toBe(true);
    expect(config.server.tracesAlias).toBe('/t');
  });

  it('names the bad key in the error', () => {
    const bad = { ...minimal, tenants: [{ id: 'shop', keys: [{ id: 'web', keyHash: 'plaintext' }] }] };
    expect(() => parseConfig(bad)).toThrow(ConfigError);
    expect(() => parseConfig(bad)).toThrow(/^tenants\[0\]\.keys\[0\]\.keyHash: expected sha256:/);
    expect(() => parseConfig({ ...minimal, limits: { maxBodyBytes: 0 } })).toThrow(/^limits\.maxBodyBytes: /);
    expect(() => parseConfig({ ...minimal, upstrem: {} })).toThrow(/^upstrem: is not a known setting/);
    // Nesting deeper than this would let a crafted value overflow the decoder's and validator's stack.
    expect(() => parseConfig({ ...minimal, limits: { maxDepth: 2000 } })).toThrow(/^limits\.maxDepth: /);
    expect(parseConfig({ ...minimal, limits: { maxDepth: 64 } }).limits.maxDepth).toBe(64);
    expect(() => parseConfig({ ...minimal, upstream: { url: 'ftp://x' } })).toThrow(/^upstream\.url: expected an http/);
    expect(() => parseConfig({ ...minimal, upstream: { url: 'https://otel:s3cret@collector.example' } })).toThrow(
      /^upstream\.url: must not carry credentials .*upstream\.bearerToken/,
    );
    for (const url of ['http://collector:4318/?tenant=a', 'http://collector:4318/#x', 'http://collector:4318?']) {
      expect(() => parseConfig({ ...minimal, upstream: { url } })).toThrow(/^upstream\.url: must not carry a query/);
    }
    // A secret of the wrong type is named, not quoted.
    const numericToken = () =>
      parseConfig({ ...minimal, upstream: { url: 'http://collector:4318', bearerToken: 31415926535897932 } });
    expect(numericToken).toThrow(/^upstream\.bearerToken: .*\(a value not shown\)/);
    expect(numericToken).not.toThrow(/31415926/);
    expect(() =>
      parseConfig({
        ...minimal,
        tenants: [{ id: 's', keys: [{ id: 'w', keyHash: hashKey('k'), origins: ['https://a.b/path'] }] }],
      }),
    ).toThrow(/^tenants\[0\]\.keys\[0\]\.origins\[0\]: expected an origin/);
  });

  it('refuses a key listed under two tenants, which would let it write into either', () => {
    const twice = {
      ...minimal,
      tenants: [
        { id: 'a', keys: [{ id: 'a-web', keyHash: hashKey('same') }] },
        { id: 'b', keys: [{ id: 'b-web', keyHash: hashKey('same') }] },
      ],
    };
    expect(() => parseConfig(twice)).toThrow(/^tenants\[1\]\.keys\[0\]\.keyHash: the key is used twice/);
  });

  it('substitutes ${NAME} from the environment and names a missing variable', () => {
    const withToken = { ...minimal, upstream: { url: 'http://c:4318', bearerToken: '${COLLECTOR_TOKEN}' } };
    expect(parseConfig(withToken, { COLLECTOR_TOKEN: 's3cret' }).upstream.bearerToken).toBe('s3cret');
    expect(() => parseConfig(withToken, {})).toThrow(/^upstream\.bearerToken: \$\{COLLECTOR_TOKEN\} is not set/);
    const optional = { ...minimal, upstream: { url: 'http://c:4318', bearerToken: '${COLLECTOR_TOKEN:-}' } };
    expect(parseConfig(optional, {}).upstream.bearerToken).toBe('');
  });

  it('rejects a scrub rule with an invalid regular expression', () => {
    expect(() => parseConfig({ ...minimal, scrub: { rules: [{ name: 'x', pattern: '(' }] } })).toThrow(
      /^scrub\.rules\[0\]\.pattern: expected a valid JavaScript regular expression/,
    );
  });

  it('rejects scrub patterns that backtrack without bound or match the empty string', () => {
    // The shapes themselves are read in backtrackingShape.test.ts; here, that each one has its message.
    for (const [pattern, message] of [
      ['(\\w+\\s?)+$', /^scrub\.rules\[0\]\.pattern: a repeated group with a repeat inside/],
      ['(?:\\w|\\d)+!', /^scrub\.rules\[0\]\.pattern: a repeated group whose turns can match the same text/],
      [`${'('.repeat(70)}a${')'.repeat(70)}`, /^scrub\.rules\[0\]\.pattern: groups nest too deep/],
      ['x*', /^scrub\.rules\[0\]\.pattern: the pattern matches the empty string/],
      // Empty matches between characters, not in empty text.
      ['\\b', /^scrub\.rules\[0\]\.pattern: the pattern matches the empty string/],
      ['(?=\\d)', /^scrub\.rules\[0\]\.pattern: the pattern matches the empty string/],
    ] as const) {
      expect(() => parseConfig({ ...minimal, scrub: { rules: [{ name: 'x', pattern }] } })).toThrow(message);
    }
    for (const pattern of ['(?:\\d+\\.){3}\\d+', '\\bORD-\\d{6}\\b', '(?:-|\\d)+']) {
      expect(() => parseConfig({ ...minimal, scrub: { rules: [{ name: 'x', pattern }] } })).not.toThrow();
    }
  });

  it('rejects backreferences and named groups in scrub patterns, which the combined expression would renumber', () => {
    for (const pattern of [`(['"])secret-\\w+\\1`, '(?<q>x)\\k<q>', '(?<quote>")']) {
      expect(() => parseConfig({ ...minimal, scrub: { rules: [{ name: 'x', pattern }] } })).toThrow(
        /^scrub\.rules\[0\]\.pattern: backreferences and named groups are not supported/,
      );
    }
    // An escaped backslash before a digit, lookbehind and non-capturing groups are fine.
    for (const pattern of ['C:\\\\1', '(?<=id=)\\d+', '(?:a|b)(c)']) {
      expect(() => parseConfig({ ...minimal, scrub: { rules: [{ name: 'x', pattern }] } })).not.toThrow();
    }
  });

  it('rejects an empty sensitive word, which would make every key and parameter sensitive', () => {
    expect(() => parseConfig({ ...minimal, scrub: { sensitiveKeys: ['orderref', ''] } })).toThrow(
      /^scrub\.sensitiveKeys\[1\]: expected a word/,
    );
  });
});

describe('configFromEnv', () => {
  it('builds one tenant whose key is stored hashed', () => {
    const config = configFromEnv({
      RUMKIT_API_KEY: 'dev-key',
      RUMKIT_ALLOWED_ORIGINS: 'http://127.0.0.1:5173, http://localhost:5173',
      RUMKIT_UPSTREAM_URL: 'http://127.0.0.1:4318',
    });
    expect(config.tenants[0]?.keys[0]?.keyHash).toBe(hashKey('dev-key'));
    expect(JSON.stringify(config)).not.toContain('dev-key');
    expect(config.tenants[0]?.keys[0]?.origins).toEqual(['http://127.0.0.1:5173', 'http://localhost:5173']);
    expect(config.queue.spoolDir).toBeUndefined();
  });

  it('spools to RUMKIT_SPOOL_DIR, so a restart loses nothing', () => {
    const config = configFromEnv({
      RUMKIT_API_KEY: 'k',
      RUMKIT_UPSTREAM_URL: 'http://127.0.0.1:4318',
      RUMKIT_SPOOL_DIR: '/var/spool/rumkit',
    });
    expect(config.queue.spoolDir).toBe('/var/spool/rumkit');
    expect(config.queue.maxMemoryBatches).toBe(500);
  });

  it('names a missing variable', () => {
    expect(() => configFromEnv({ RUMKIT_API_KEY: 'k' })).toThrow(/RUMKIT_UPSTREAM_URL is required/);
  });
});

describe('numbers from the environment', () => {
  it('reads numeric strings, as ${PORT} substitutes to', () => {
    const config = parseConfig(
      { ...minimal, server: { port: '${PORT}' }, limits: { maxBodyBytes: '1024' } },
      { PORT: '18080' },
    );
    expect(config.server.port).toBe(18080);
    expect(config.limits.maxBodyBytes).toBe(1024);
    expect(() => parseConfig({ ...minimal, server: { port: 'eighty' } })).toThrow(/^server\.port: expected a number/);
  });
});

describe('the example configuration', () => {
  it('is valid, so the documented settings and the schema agree', async () => {
    const { readFileSync } = await import('node:fs');
    const YAML = (await import('yaml')).default;
    const text = readFileSync(new URL('../rumkit.example.yaml', import.meta.url), 'utf8');
    const config = parseConfig(YAML.parse(text), { RUMKIT_SCRUB_SECRET: 'a-secret-of-some-length' });
    expect(config.tenants[0]?.sampleRate).toBe(0.25);
    expect(config.queue.spoolDir).toBe('/var/spool/rumkit');
  });
});
