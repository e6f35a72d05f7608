/**
 * documentLoad / documentFetch / resourceFetch spans from `@opentelemetry/instrumentation-document-load`,
 * parented to the backend trace that served the HTML. The instrumentation reads that trace from
 * `<meta name="traceparent">`; a server that sends `Server-Timing: traceparent;desc="00-…-01"` instead gets
 * the same link, because its value is copied into such a meta element first.
 *
 *     enableInstrumentation(createDocumentLoadInstrumentation(), provider); // also after `load`
 */
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';

export function createDocumentLoadInstrumentation(): DocumentLoadInstrumentation {
  adoptServerTimingTraceparent();
  return new DocumentLoadInstrumentation({ enabled: false });
}

export function adoptServerTimingTraceparent(): void {
  if (document.querySelector('meta[name=traceparent]')) return;
  const navigation = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined;
  const traceparent = navigation?.serverTiming?.find((t) => t.name === 'traceparent')?.description;
  if (!traceparent) return;
  const meta = document.createElement('meta');
  meta.name = 'traceparent';
  meta.content = traceparent;
  document.head.append(meta);
}
