/**
 * `<RumkitProvider config={…}>`: starts the rumkit agent for the page and hands it to the hooks below.
 *
 *     <RumkitProvider config={{ endpoint, apiKey, serviceName: 'shop-web' }}>
 *       <App />
 *     </RumkitProvider>
 *
 * The agent starts during the provider's first client render, before any child effect runs, so the first
 * fetch a child makes is already traced. It lives as long as the page, or until its `shutdown()`: `config` is
 * read once, and unmounting the provider does not stop the agent (a provider mounted again gets the same one,
 * or a new one after `shutdown()`).
 *
 *     import { init } from '@rumkit/browser/zone';
 *     <RumkitProvider config={config} init={init}>   // the zone entry's agent
 */
import type { RumkitAgent, RumkitConfig } from '@rumkit/browser';
import { type ReactNode, useContext, useState } from 'react';
import { RumkitContext } from './rumkitContext.ts';
import { startAgentOnce } from './startAgentOnce.ts';

export interface RumkitProviderProps {
  config: RumkitConfig;
  /**
   * The `init` that starts the agent: `@rumkit/browser`'s by default; `@rumkit/browser/zone`'s for an app whose
   * spans must stay active across timers, promise callbacks and event listeners (not a native `await`).
   */
  init?: (config: RumkitConfig) => RumkitAgent;
  children?: ReactNode;
}

export function RumkitProvider({ config, init, children }: RumkitProviderProps) {
  const outer = useContext(RumkitContext);
  const [agent] = useState(() => {
    // The page has one agent, so a provider below another never reads its config: say so rather than drop it.
    if (outer) console.warn('rumkit: a nested RumkitProvider; its config is ignored');
    return startAgentOnce(config, init);
  });
  return <RumkitContext.Provider value={agent}>{children}</RumkitContext.Provider>;
}
