import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialsQuery, type RumkitConfig, urlPattern, validateConfig } from './config.ts';

const valid: RumkitConfig = { endpoint: 'https://rum.example.com/', apiKey: 'pk_1', serviceName: 'shop-web' };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('validateConfig', () => {
  it('names the bad key in its message', () => {
    expect(validateConfig({ ...valid, apiKey: '' })).toBe('rumkit: config.apiKey must be a non-empty string');
    expect(validateConfig({ ...valid, endpoint: '/relative' })).toBe('rumkit: config.endpoint must be an absolute URL');
    expect(validateConfig({ ...valid, sampleRate: 1.5 })).toBe(
      'rumkit: config.sampleRate must be a number from 0 to 1',
    );
    expect(validateConfig({ ...valid, sampleRate: '0.5' as unknown as number })).toMatch(/config\.sampleRate/);
    expect(validateConfig({ ...valid, ignoreUrls: [42 as unknown as string] })).toMatch(/config\.ignoreUrls/);
    expect(validateConfig({ ...valid, attributes: { a: {} as unknown as string } })).toMatch(/config\.attributes/);
    expect(validateConfig({ ...valid, tracesPath: 'v1/rum' })).toMatch(/config\.tracesPath/);
    expect(validateConfig({ ...valid, xhr: true as unknown as RumkitConfig['xhr'] })).toMatch(/config\.xhr/);
    expect(validateConfig({ ...valid, token: '' })).toBe('rumkit: config.token must be a non-empty string');
  });

  it('takes only a string endpoint and a plain object of attributes', () => {
    // A URL object or a string-like value would pass `new URL(...)` and then break string handling in init().
    const asUrl = new URL('https://rum.example.com') as unknown as string;
    expect(validateConfig({ ...valid, endpoint: asUrl })).toMatch(/config\.endpoint/);
    expect(validateConfig({ ...valid, attributes: 'abc' as unknown as RumkitConfig['attributes'] })).toMatch(
      /config\.attributes/,
    );
    expect(validateConfig({ ...valid, attributes: ['a'] as unknown as RumkitConfig['attributes'] })).toMatch(
      /config\.attributes/,
    );
  });

  it('rejects a missing config object', () => {
    expect(validateConfig(undefined)).toMatch(/config\.endpoint/);
  });

  it('applies defaults and derives the traces URL without a double slash', () => {
    const settings = validateConfig(valid);
    if (typeof settings === 'string') throw new Error(settings);
    expect(settings.tracesUrl).toBe('https://rum.example.com/v1/traces');
    expect(settings.sampleRate).toBe(1);
    expect(settings.attributes).toEqual({});
    const aliased = validateConfig({ ...valid, tracesPath: '/ingest/t' });
    expect(typeof aliased !== 'string' && aliased.tracesUrl).toBe('https://rum.example.com/ingest/t');
  });

  it('puts the key, and the sender token when there is one, in the query, encoded', () => {
    const settings = validateConfig({ ...valid, apiKey: 'pk 1&x' });
    if (typeof settings === 'string') throw new Error(settings);
    expect(credentialsQuery(settings)).toBe('key=pk%201%26x');
    settings.token = 'bank-web.1795167011.ab+c';
    expect(credentialsQuery(settings)).toBe('key=pk%201%26x&token=bank-web.1795167011.ab%2Bc');
  });

  it("always ignores the agent's own requests, and only those when the endpoint is the page's origin", () => {
    const ignored = (config: RumkitConfig) => {
      const settings = validateConfig(config);
      if (typeof settings === 'string') throw new Error(settings);
      return (url: string) => settings.ignoreUrls.some((p) => p.test(url));
    };
    const onEdge = ignored(valid);
    expect(onEdge('https://rum.example.com/v1/traces?key=pk_1&sent_at=1')).toBe(true);
    expect(onEdge('https://rum.example.com/v1/config?key=pk_1')).toBe(true);
    const onShop = ignored({ ...valid, endpoint: 'https://shop.example.com', tracesPath: '/rum/t' });
    expect(onShop('https://shop.example.com/rum/t?key=pk_1&sent_at=1')).toBe(true);
    expect(onShop('https://shop.example.com/v1/config?key=pk_1')).toBe(true);
    expect(onShop('https://shop.example.com/api/orders')).toBe(false);
    expect(onShop('https://shop.example.com/rum/other')).toBe(false);
    expect(onShop('https://shop.example.com/')).toBe(false);
  });

  it('warns once about each key that is not an option, naming it, and keeps the agent', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const misspelt = { ...valid, propagateTraceHeaderCorsURLs: ['https://api.example.com'], debgu: true };
    expect(typeof validateConfig(misspelt)).toBe('object');
    expect(warn.mock.calls).toEqual([
      ['rumkit: config.propagateTraceHeaderCorsURLs is not an option; ignored'],
      ['rumkit: config.debgu is not an option; ignored'],
    ]);
    warn.mockClear();
    validateConfig({ ...valid, debug: true, xhr: undefined });
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('urlPattern', () => {
  it('takes a global or sticky RegExp without the flags that make test() alternate', () => {
    const pattern = urlPattern(/\/health/gy);
    expect([1, 2, 3, 4].map(() => pattern.test('/health'))).toEqual([true, true, true, true]);
    expect(pattern.flags).toBe('');
  });

  it('matches a string as that URL and everything below it, not a look-alike host', () => {
    const api = urlPattern('https://api.example.com');
    expect(api.test('https://api.example.com')).toBe(true);
    expect(api.test('https://api.example.com/orders?id=1')).toBe(true);
    expect(api.test('https://api.example.com.evil.test/')).toBe(false);
    expect(api.test('https://api.example.company/')).toBe(false);
  });

  it('keeps what a RegExp matches', () => {
    const pattern = urlPattern(/^https:\/\/x\//i);
    expect([pattern.source, pattern.flags]).toEqual(['^https:\\/\\/x\\/', 'i']);
  });
});
