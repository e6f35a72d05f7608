/**
 * The few Cloudflare Workers binding types the worker uses, declared structurally here so that the
 * worker's sources typecheck against Node's types too (the full @cloudflare/workers-types would clash
 * with them).
 */
import type { UpstreamPayload } from '../../pipeline/forward.ts';

export interface KVNamespace {
  get(key: string): Promise<string | null>;
}

type QueueContentType = 'json' | 'v8' | 'text' | 'bytes';

export interface Queue<Body> {
  send(body: Body, options?: { contentType?: QueueContentType }): Promise<void>;
  sendBatch(messages: Iterable<{ body: Body; contentType?: QueueContentType }>): Promise<void>;
}

export interface QueueMessage<Body> {
  readonly id: string;
  readonly body: Body;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

export interface MessageBatch<Body> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
  retryAll(options?: { delaySeconds?: number }): void;
}

export interface RateLimit {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** `request.cf` on Workers: where the request entered Cloudflare's network. */
export interface IncomingCf {
  country?: string;
  continent?: string;
  regionCode?: string;
  colo?: string;
  asn?: number;
}

export interface Env {
  /** The configuration (YAML or JSON); `${NAME}` refers to other vars and secrets. */
  RUMKIT_CONFIG?: string;
  /** Optional KV namespace whose `config` entry, when present, replaces RUMKIT_CONFIG (no redeploy). */
  RUMKIT_KV?: KVNamespace;
  /** Seconds a worker instance keeps the configuration before reading it again (default 60). */
  RUMKIT_CONFIG_TTL_SECONDS?: string;
  /** The consumer's `max_retries` (wrangler.toml): a batch failing its last attempt is counted as dropped. */
  RUMKIT_QUEUE_MAX_RETRIES?: string;
  FORWARD_QUEUE: Queue<UpstreamPayload>;
  ABUSE_LIMITER?: RateLimit;
  [name: string]: unknown;
}
