import { describe, expect, it } from 'vitest';
import { hashKey } from '../config.ts';
import { BLOG_KEY, SHOP_KEY, SHOP_ORIGIN, testConfig } from '../testing/config.ts';
import { authenticate, indexKeys, MAX_TOKEN_TTL_SECONDS, mintToken } from './auth.ts';
import { isRejection } from './rejection.ts';

const NOW = 1_800_000_000_000;
const SECRET = 'a-token-secret-of-some-length';
const config = testConfig({
  tenants: [
    { id: 'shop', keys: [{ id: 'shop-web', keyHash: hashKey(SHOP_KEY), origins: [SHOP_ORIGIN] }] },
    { id: 'blog', keys: [{ id: 'blog-web', keyHash: hashKey(BLOG_KEY) }] },
    { id: 'old', keys: [{ id: 'old-web', keyHash: hashKey('pk_old'), disabled: true }] },
    { id: 'bank', keys: [{ id: 'bank-web', keyHash: hashKey('pk_bank'), tokenSecret: SECRET }] },
  ],
});
const keys = indexKeys(config.tenants);
const auth = (key: string | undefined, origin?: string, token?: string) =>
  authenticate(keys, { key, origin, token }, NOW);

describe('authenticate', () => {
  it('resolves a key to its own tenant only', () => {
    expect(auth(SHOP_KEY, SHOP_ORIGIN)).toMatchObject({ tenant: { id: 'shop' }, key: { id: 'shop-web' } });
    expect(auth(BLOG_KEY)).toMatchObject({ tenant: { id: 'blog' } });
  });

  it('answers 401 to a missing, unknown or disabled key', () => {
    expect(auth(undefined)).toMatchObject({ status: 401, outcome: 'unauthorized', message: /no ingest key/ });
    expect(auth('pk_guess')).toMatchObject({ status: 401, message: 'the ingest key is not valid' });
    expect(auth(`${SHOP_KEY}x`)).toMatchObject({ status: 401 });
    expect(auth('pk_old')).toMatchObject({ status: 401, message: 'the ingest key is disabled' });
  });

  it('answers 403 when the page origin is not on the key’s allow-list', () => {
    expect(auth(SHOP_KEY, 'https://evil.example')).toMatchObject({ status: 403, outcome: 'origin_denied' });
    // Non-browser senders send no Origin; binding to an origin only stops other sites' pages.
    expect(isRejection(auth(SHOP_KEY, undefined))).toBe(false);
  });

  it('requires a valid, unexpired, short-lived HMAC token for keys with a token secret', () => {
    expect(auth('pk_bank')).toMatchObject({ status: 401, message: /requires a sender token/ });
    expect(isRejection(auth('pk_bank', undefined, mintToken('bank-web', SECRET, 300, NOW)))).toBe(false);
    expect(auth('pk_bank', undefined, mintToken('bank-web', 'another-secret-of-length', 300, NOW))).toMatchObject({
      message: 'the sender token is not valid for this key',
    });
    expect(auth('pk_bank', undefined, mintToken('shop-web', SECRET, 300, NOW))).toMatchObject({
      message: 'the sender token is not valid for this key',
    });
    expect(auth('pk_bank', undefined, mintToken('bank-web', SECRET, -1, NOW))).toMatchObject({
      message: 'the sender token has expired',
    });
    expect(auth('pk_bank', undefined, mintToken('bank-web', SECRET, MAX_TOKEN_TTL_SECONDS + 60, NOW))).toMatchObject({
      message: /lives longer/,
    });
    expect(auth('pk_bank', undefined, 'bank-web.1.zz')).toMatchObject({ message: 'the sender token is malformed' });
  });
});
