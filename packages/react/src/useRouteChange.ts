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
import type { RumkitAgent } from '@rumkit/browser';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect.ts';
import { useRumkit } from './useRumkit.ts';

/**
 * The pathname last reported to the page's agent: StrictMode's second run of the effect, a reporter remounted on
 * the same URL (an error boundary's retry) and a second reporter in the tree report nothing new.
 */
let reported: { agent: RumkitAgent; pathname: string } | undefined;

export function useRouteChange(pathname: string, route: string = pathname): void {
  const agent = useRumkit();
  // A layout effect: it runs before any passive effect of the commit, such as a `<Navigate>` redirecting at once,
  // which would otherwise change the URL first and have this report name the redirect's page view.
  useIsomorphicLayoutEffect(() => {
    if (!agent || (reported?.agent === agent && reported.pathname === pathname)) return;
    reported = { agent, pathname };
    agent.pageView(route);
  }, [agent, pathname, route]);
}
