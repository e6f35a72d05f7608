/**
 * `@rumkit/browser/zone`: the agent with `ZoneContextManager`, for apps that need the active span to follow
 * async work (`setTimeout`, promises, event listeners). It loads zone.js (about 13 KB gzip), which patches
 * the browser's async APIs when this module is imported.
 *
 *     import { init } from '@rumkit/browser/zone';
 */
import { ZoneContextManager } from '@opentelemetry/context-zone';
import type { RumkitAgent } from './agent.ts';
import { importDeferred } from './chunks.ts';
import type { RumkitConfig } from './config.ts';
import { createAgent } from './init.ts';

export type { RumkitAgent, RumkitUser } from './agent.ts';
export type { RumkitConfig } from './config.ts';

export function init(config: RumkitConfig): RumkitAgent {
  return createAgent(config, { loadDeferred: importDeferred, contextManager: new ZoneContextManager() });
}
