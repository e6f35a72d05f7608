/**
 * A `page_view` span for each page view after the first, so that the edge counts a single-page app's
 * navigations (`rumkit_page_views_total`) as it counts page loads by their `documentLoad`: a root span of no
 * length at the moment the view began, with the view's id, route and URL.
 *
 * It leaves once the route is final, since a router names the template ('/docs/:id') only after the URL change
 * the agent saw: when the next view begins, the page is hidden, or a second after the view began.
 *
 *     const stop = recordPageViews(views, tracer);
 */
import type { Tracer } from '@opentelemetry/api';
import { listen } from '../lib/listen.ts';
import { type PageView, type PageViews, ROUTE_WAIT_MS } from './pageView.ts';

export function recordPageViews(views: PageViews, tracer: Tracer): () => void {
  let pending: { view: PageView; url: string; timer: ReturnType<typeof setTimeout> } | undefined;
  const record = () => {
    if (!pending) return;
    const { view, url, timer } = pending;
    pending = undefined;
    clearTimeout(timer);
    // The view's own attributes after the span processor's, which are those of the view current now.
    tracer
      .startSpan('page_view', { startTime: view.at, root: true })
      .setAttributes(view.attributes)
      .setAttribute('url.full', url)
      .end(view.at);
  };
  views.onViewStart((view) => {
    record();
    // After shutdown() too, for `pageView()` may still be called: the span processor drops what it records then.
    pending = { view, url: location.href, timer: setTimeout(record, ROUTE_WAIT_MS) };
  });
  // Hidden, the page may not run again (shown again, the route had its chance too).
  const stopListening = listen(['visibilitychange', 'pagehide'], record);
  return () => {
    record();
    stopListening();
  };
}
