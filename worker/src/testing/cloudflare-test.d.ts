/**
 * The part of `cloudflare:test` (from @cloudflare/vitest-pool-workers) the workerd tests use, typed
 * against the worker's own binding types so that they typecheck beside Node's types.
 */
declare module 'cloudflare:test' {
  import type { Env, ExecutionContext } from '../adapter/cloudflare/bindings.ts';

  export const env: Env & { RUMKIT_UPSTREAM_URL: string };
  export const SELF: { fetch(input: string, init?: RequestInit): Promise<Response> };
  export function createExecutionContext(): ExecutionContext;
  export function waitOnExecutionContext(ctx: ExecutionContext): Promise<void>;
  export function createMessageBatch<Body>(
    queueName: string,
    messages: Array<{ id: string; timestamp: Date; attempts: number; body: Body }>,
  ): import('../adapter/cloudflare/bindings.ts').MessageBatch<Body>;
  export function getQueueResult(
    batch: import('../adapter/cloudflare/bindings.ts').MessageBatch<unknown>,
    ctx: ExecutionContext,
  ): Promise<{
    outcome: string;
    explicitAcks: string[];
    retryMessages: Array<{ msgId: string; delaySeconds?: number }>;
  }>;
}
