/**
 * Page views: the current view's random id and route, renewed when the single-page app navigates
 * (`history.pushState`, `replaceState`, `popstate`) to another path, when the page comes back from the
 * back/forward cache, or when the app says so. A hash router's route (`#/inbox/7`, `#!/inbox`) is part of the
 * path; an anchor (`#section`) is not.
 *
 *     const views = trackPageViews();
 *     span.setAttributes(views.current.attributes); // the page view of spans started now
 *     views.pageView('/docs/:id'); // within ROUTE_WAIT_MS of an automatic view of the same URL: only names its route
 */
import { listen } from '../lib/listen.ts';
import { pageViewId } from '../lib/randomId.ts';

/**
 * How long after the agent began a view the app may still name its route: a router reports the template
 * ('/docs/:id') just after the URL change the agent saw. A later `pageView()` is a view of its own (a wizard's
 * next step on the same URL), and the view's `page_view` span waits as long for the name.
 */
export const ROUTE_WAIT_MS = 1_000;

export interface PageView {
  /** What ties a span to the view; the route is the template if the app named one, else the path. */
  attributes: { 'rumkit.page_view.id': string; 'rumkit.page.route': string };
  /** The path the view began on, with a hash router's route. */
  path: string;
  /** Started by the agent on a URL change (or at start-up) and not yet named by the app. */
  automatic: boolean;
  /** When the view began (`performance.now()`). */
  at: number;
}

export interface PageViews {
  readonly current: PageView;
  /**
   * The view the document loaded in, or last came back from the back/forward cache in: the one its load and
   * its web vitals (which the library measures again after a restore) belong to.
   */
  readonly document: PageView;
  pageView(route?: string): void;
  /** Calls `listener` (one: a later call replaces it) with each view that begins after the first, once it is current. */
  onViewStart(listener: (view: PageView) => void): void;
  stop(): void;
}

/**
 * `location.pathname`, and the route of a hash router (Angular's, Vue's and React Router's hash history) without
 * its query. The root route (`#/`, `#!/`) is none: routers write it into the URL as they start.
 */
const currentPath = () => location.pathname + (/^#!?\/[^?]/.test(location.hash) ? location.hash.split('?')[0] : '');

export function trackPageViews(): PageViews {
  const start = (route: string | undefined, automatic: boolean): PageView => ({
    attributes: { 'rumkit.page_view.id': pageViewId(), 'rumkit.page.route': route ?? currentPath() },
    path: currentPath(),
    automatic,
    at: performance.now(),
  });
  let current = start(undefined, true);
  let documentView = current;
  let onViewStart = (_view: PageView) => {};
  const begin = (route: string | undefined, automatic: boolean, restored?: boolean) => {
    current = start(route, automatic);
    if (restored) documentView = current;
    onViewStart(current);
  };

  const onUrlChange = () => {
    if (currentPath() !== current.path) begin(undefined, true);
  };
  const patched = (['pushState', 'replaceState'] as const).map((method) => {
    const original = history[method];
    const wrapper = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      onUrlChange();
    };
    history[method] = wrapper;
    return () => {
      // Another library may have wrapped ours since; unwrapping then would drop its wrapper too.
      if (history[method] === wrapper) history[method] = original;
    };
  });
  // A page restored from the back/forward cache (`pageshow`, persisted) is a new visit, as a page load would be.
  patched.push(
    listen(['popstate', 'pageshow'], (event) =>
      (event as PageTransitionEvent).persisted ? begin(undefined, true, true) : onUrlChange(),
    ),
  );

  return {
    get current() {
      return current;
    },
    get document() {
      return documentView;
    },
    pageView(route) {
      if (
        route !== undefined &&
        current.automatic &&
        current.path === currentPath() &&
        performance.now() - current.at < ROUTE_WAIT_MS
      ) {
        current.attributes['rumkit.page.route'] = route;
        current.automatic = false;
      } else begin(route, false);
    },
    onViewStart(listener) {
      onViewStart = listener;
    },
    stop() {
      for (const unpatch of patched) unpatch();
    },
  };
}
