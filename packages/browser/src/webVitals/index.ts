/**
 * Core Web Vitals as spans: one span `web_vital.<NAME>` per report of the `web-vitals` attribution build,
 * whenever the library reports (CLS, INP and LCP also when the page is hidden). Attribute names follow the
 * semantic conventions' `browser.web_vital.*`; every string or number the attribution carries becomes
 * `browser.web_vital.attribution.<snake_case name>` (e.g. `…attribution.target`, `…attribution.input_delay`).
 * Every report carries the page view the document loaded in: the library measures the document, so LCP,
 * CLS and INP reported at page hide belong to it, not to the route a single-page app has moved to since. After
 * a restore from the back/forward cache the library measures again, for the view that the restore began.
 *
 *     observeWebVitals(() => ({ tracer, views }));
 */
import type { Tracer } from '@opentelemetry/api';
import { type MetricWithAttribution, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals/attribution';
import type { PageViews } from '../session/pageView.ts';

/** Where reports go: an agent's tracer and page views. */
export interface VitalsTarget {
  tracer: Tracer;
  views: Pick<PageViews, 'document'>;
}

/** Reports to the target `to()` gives at the time, if any (none once the page's agent is shut down). */
export function observeWebVitals(to: () => VitalsTarget | undefined): void {
  const report = (metric: MetricWithAttribution) => {
    const target = to();
    // After the span processor, which stamps the page view current at the span's start.
    target?.tracer
      .startSpan(`web_vital.${metric.name}`, { attributes: webVitalAttributes(metric) })
      .setAttributes(target.views.document.attributes)
      .end();
  };
  for (const observe of [onLCP, onINP, onCLS, onFCP, onTTFB]) observe(report);
}

export function webVitalAttributes(metric: MetricWithAttribution): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    'browser.web_vital.name': metric.name,
    'browser.web_vital.value': metric.value,
    'browser.web_vital.rating': metric.rating,
    'browser.web_vital.delta': metric.delta,
    'browser.web_vital.id': metric.id,
    'browser.web_vital.navigation_type': metric.navigationType,
  };
  for (const [key, value] of Object.entries(metric.attribution)) {
    // Entries and other objects are too big for an attribute; the strings and numbers summarise them.
    if (typeof value === 'string' || typeof value === 'number') {
      // An acronym is one word: `firstByteToFCP` → `first_byte_to_fcp`.
      attributes[`browser.web_vital.attribution.${key.replace(/[A-Z]+/g, (c) => `_${c.toLowerCase()}`)}`] = value;
    }
  }
  return attributes;
}
