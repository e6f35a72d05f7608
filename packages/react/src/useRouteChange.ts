/**
 * Route changes as page views, for any router: call it with the router's current pathname and, if the
 * router knows it, the route template. Each new pathname becomes a page view named `route`; the agent's own
 * page view for the same URL (it sees `pushState`) is named rather than doubled.
 *
 *     const { pathname } = useRouterLocation();
 *     useRouteChange(pathname, '/docs/:id');
 *
 * Routers that do not change `location.pathname` (hash or memory routers) get a page view per route change
 * this way too.
 */
import { useEffect, useRef } from 'react';
import { useRumkit } from './useRumkit.ts';

export function useRouteChange(pathname: string, route: string = pathname): void {
  const agent = useRumkit();
  const reported = useRef<string | undefined>(undefined);
  useEffect(() => {
    // StrictMode runs this effect twice on mount; the second run must not start another page view.
    if (!agent || reported.current === pathname) return;
    reported.current = pathname;
    agent.pageView(route);
  }, [agent, pathname, route]);
}
