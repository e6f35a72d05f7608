/**
 * Auth: finds which tenant a request writes to, from the public ingest key it carries (header
 * `x-rumkit-key`, or `?key=` for `sendBeacon`, which cannot set headers).
 *
 *     const keys = indexKeys(config.tenants);
 *     const result = authenticate(keys, { key, origin, token }, Date.now());
 *     if (isRejection(result)) …; else result.tenant
 *
 * Keys are public (they sit in the page), so a key is bound to the page origins allowed to use it, like a
 * Sentry DSN. Only their SHA-256 is stored; the presented key's hash is compared with every stored hash in
 * constant time. A key that requires sender authentication must come with a short-lived HMAC token that the
 * site's own backend mints with `mintToken`. Each key belongs to exactly one tenant, and the tenant is never
 * read from the request, so a key of tenant A cannot write into tenant B.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyConfig, TenantConfig } from '../config.ts';
import { type Rejection, reject } from './rejection.ts';

export const KEY_HEADER = 'x-rumkit-key';
export const TOKEN_HEADER = 'x-rumkit-token';
/** Tokens promising a longer life than this are refused: a leaked token must expire soon. */
export const MAX_TOKEN_TTL_SECONDS = 3600;

export interface IndexedKey {
  hash: Buffer;
  key: KeyConfig;
  tenant: TenantConfig;
}

export interface Credentials {
  key: string | undefined;
  origin: string | undefined;
  token: string | undefined;
}

export interface Authenticated {
  tenant: TenantConfig;
  key: KeyConfig;
}

export function indexKeys(tenants: readonly TenantConfig[]): IndexedKey[] {
  return tenants.flatMap((tenant) =>
    tenant.keys.map((key) => ({ hash: Buffer.from(key.keyHash.slice('sha256:'.length), 'hex'), key, tenant })),
  );
}

export function authenticate(
  keys: readonly IndexedKey[],
  credentials: Credentials,
  nowMs: number,
): Authenticated | Rejection {
  if (!credentials.key) return reject('unauthorized', `no ingest key: send it in the ${KEY_HEADER} header or ?key=`);
  const presented = createHash('sha256').update(credentials.key).digest();
  let found: IndexedKey | undefined;
  // Every stored hash is compared, with no early exit, so timing tells nothing about which key matched.
  for (const entry of keys) {
    if (timingSafeEqual(entry.hash, presented)) found = entry;
  }
  if (!found) return reject('unauthorized', 'the ingest key is not valid');
  const refusal = refuseKeyUse(found.key, credentials, nowMs);
  return refusal ? { ...refusal, tenant: found.tenant.id } : { tenant: found.tenant, key: found.key };
}

/** Why a valid key may not be used for this request, if it may not. */
function refuseKeyUse(key: KeyConfig, credentials: Credentials, nowMs: number): Rejection | undefined {
  if (key.disabled) return reject('unauthorized', 'the ingest key is disabled');
  const { origin } = credentials;
  if (origin !== undefined && !key.origins.includes(origin)) {
    return reject('origin_denied', `origin ${origin.slice(0, 200)} may not use this ingest key`);
  }
  const problem = key.tokenSecret === undefined ? undefined : checkToken(credentials.token, key, nowMs);
  return problem ? reject('unauthorized', problem) : undefined;
}

/**
 * Mints a sender token for a key that requires one: `<key id>.<expiry, unix seconds>.<HMAC-SHA256 hex>`.
 * The site's backend calls this (or reimplements these three lines) and hands the token to the agent.
 */
export function mintToken(keyId: string, tokenSecret: string, ttlSeconds: number, nowMs: number): string {
  const expires = Math.floor(nowMs / 1000) + ttlSeconds;
  return `${keyId}.${expires}.${sign(tokenSecret, `${keyId}.${expires}`)}`;
}

function checkToken(token: string | undefined, key: KeyConfig, nowMs: number): string | undefined {
  if (!token) return `this ingest key requires a sender token in the ${TOKEN_HEADER} header or ?token=`;
  const match = /^([\w.-]+)\.(\d{1,12})\.([0-9a-f]{64})$/.exec(token);
  if (!match) return 'the sender token is malformed';
  const [, keyId, expiresText, signature] = match as unknown as [string, string, string, string];
  const expected = Buffer.from(sign(key.tokenSecret as string, `${keyId}.${expiresText}`), 'hex');
  if (keyId !== key.id || !timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    return 'the sender token is not valid for this key';
  }
  const secondsLeft = Number(expiresText) - nowMs / 1000;
  if (secondsLeft <= 0) return 'the sender token has expired';
  if (secondsLeft > MAX_TOKEN_TTL_SECONDS) return `the sender token lives longer than ${MAX_TOKEN_TTL_SECONDS} s`;
  return undefined;
}

function sign(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message).digest('hex');
}
