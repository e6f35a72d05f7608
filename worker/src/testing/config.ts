/** Configuration and fixtures shared by the worker's tests. */
import { readFileSync } from 'node:fs';
import type { ExportTraceServiceRequest } from '@rumkit/otlp';
import { type EdgeConfig, hashKey, parseConfig } from '../config.ts';

export const SHOP_KEY = 'pk_shop_0123456789';
export const BLOG_KEY = 'pk_blog_0123456789';
export const SHOP_ORIGIN = 'https://shop.example.com';
export const BLOG_ORIGIN = 'https://blog.example.com';
/** A minute after the fixture batches' spans were recorded (they carry fixed timestamps). */
export const FIXTURE_NOW_MS = 1_795_167_011_402 + 60_000;

/** Two tenants with one key each, every optional setting at its default. */
export function testConfig(overrides: Record<string, unknown> = {}): EdgeConfig {
  return parseConfig({
    tenants: [
      { id: 'shop', keys: [{ id: 'shop-web', keyHash: hashKey(SHOP_KEY), origins: [SHOP_ORIGIN] }] },
      { id: 'blog', keys: [{ id: 'blog-web', keyHash: hashKey(BLOG_KEY), origins: [BLOG_ORIGIN] }] },
    ],
    upstream: { url: 'http://127.0.0.1:9/otlp' },
    ...overrides,
  });
}

export function fixtureBytes(name: 'typical.json' | 'typical.pb' | 'typical.json.gz'): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(new URL(`../testdata/${name}`, import.meta.url)));
}

/** The typical 50-span browser batch (one page view) made by the official OpenTelemetry serializers. */
export function typicalBatch(): ExportTraceServiceRequest {
  return JSON.parse(new TextDecoder().decode(fixtureBytes('typical.json'))) as ExportTraceServiceRequest;
}
