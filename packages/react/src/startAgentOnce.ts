/**
 * Starts the agent at most once per page, however often React renders the provider: StrictMode calls state
 * initialisers twice and mounts effects twice in development, and a remounted provider must find the agent
 * it started. On the server there is no page to observe, so nothing starts.
 *
 *     const agent = startAgentOnce(config); // undefined on the server
 */
import { init, type RumkitAgent, type RumkitConfig } from '@rumkit/browser';

let started: RumkitAgent | undefined;

export function startAgentOnce(config: RumkitConfig): RumkitAgent | undefined {
  if (typeof window === 'undefined') return undefined;
  started ??= init(config);
  return started;
}
