/**
 * Starts the agent at most once per page, however often React renders the provider: StrictMode calls state
 * initialisers twice and mounts effects twice in development, and a remounted provider must find the agent
 * it started. On the server there is no page to observe, so nothing starts.
 *
 *     const agent = startAgentOnce(config); // undefined on the server
 *     startAgentOnce(config, zoneInit);     // `init` of another entry, `@rumkit/browser/zone`'s
 *     pageAgent();                          // that agent, for code above the provider (an error boundary)
 */
import { init, type RumkitAgent, type RumkitConfig } from '@rumkit/browser';

let started: RumkitAgent | undefined;

export function startAgentOnce(
  config: RumkitConfig,
  start: (config: RumkitConfig) => RumkitAgent = init,
): RumkitAgent | undefined {
  if (typeof window === 'undefined') return undefined;
  if (!started) {
    const agent = start(config);
    // After shutdown() the page has no agent, as after the agent's own shutdown(): a provider mounted later
    // starts a new one instead of handing out the stopped one.
    const wrapper: RumkitAgent = {
      ...agent,
      shutdown() {
        // Only if it is still the page's: a handle kept from before must not take a later agent's place away.
        if (started === wrapper) started = undefined;
        return agent.shutdown();
      },
    };
    started = wrapper;
  }
  return started;
}

/** The agent a provider started on this page, if one did and it was not shut down. */
export function pageAgent(): RumkitAgent | undefined {
  return started;
}
