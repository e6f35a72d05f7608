/**
 * `@rumkit/browser`: real-user telemetry as OpenTelemetry spans, sent to the rumkit edge.
 *
 *     import { init } from '@rumkit/browser';
 *     const rum = init({ endpoint: 'https://rum.example.com', apiKey: 'pk_…', serviceName: 'shop-web',
 *                        propagateTraceHeaderCorsUrls: ['https://api.example.com'] });
 */

import type { RumkitAgent } from './agent.ts';
import { importDeferred } from './chunks.ts';
import type { RumkitConfig } from './config.ts';
import { createAgent } from './init.ts';

export type { RumkitAgent, RumkitUser } from './agent.ts';
export type { RumkitConfig } from './config.ts';

/** Starts the agent. Never throws: a bad configuration is reported once on the console and yields an inert agent. */
export function init(config: RumkitConfig): RumkitAgent {
  return createAgent(config, { loadDeferred: importDeferred });
}
