/**
 * documentLoad / documentFetch / resourceFetch spans from `@opentelemetry/instrumentation-document-load`,
 * parented to the backend trace that served the HTML. The instrumentation reads that trace from
 * `<meta name="traceparent">`; a server that sends `Server-Timing: traceparent;desc="00-…-01"` instead gets
 * the same link, because its value is copied into such a meta element first.
 *
 *     enableInstrumentation(createDocumentLoadInstrumentation(), provider); // also after `load`
 */
import type { Span } from '@opentelemetry/api';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';

/** Resource spans made per task: a few milliseconds of work at 4× CPU throttling. */
const RESOURCES_PER_TASK = 8;

/** The instrumentation's steps (private in its types) that make the resource spans. */
interface ResourceSteps {
  _initResourceSpan(resource: PerformanceEntry, parent: Span): void;
  _addResourcesSpans(parent: Span): void;
}

export function createDocumentLoadInstrumentation(): DocumentLoadInstrumentation {
  adoptServerTimingTraceparent();
  const instrumentation = new DocumentLoadInstrumentation({ enabled: false });
  // The instrumentation makes a span for every resource of the page in the task that makes the document's
  // spans, which on a page of many resources is a long task. Here they are made a few at a time, each lot in a
  // task of its own: their times come from the resource timing entries, so nothing in them changes.
  const steps = instrumentation as unknown as ResourceSteps;
  const addResourceSpan = steps._initResourceSpan.bind(instrumentation);
  steps._addResourcesSpans = (parent) => {
    const resources = performance.getEntriesByType?.('resource') ?? [];
    const next = () => {
      for (const resource of resources.splice(0, RESOURCES_PER_TASK)) addResourceSpan(resource, parent);
      if (resources.length) setTimeout(next);
    };
    setTimeout(next);
  };
  return instrumentation;
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
