/**
 * The span processor between the SDK and the transport: stamps every span at its start with the session,
 * the page view, the user and the configured attributes; after its end serialises it to OTLP/JSON, lets
 * `beforeSend` see it, and queues it — in a task of its own while the page is visible, at once when it hides.
 *
 * The fetch and XHR instrumentations end a span 300 ms after its response, while they look for its
 * resource timing; a page that hides or unloads in between would lose it. So when the page hides, HTTP client
 * spans that already have their response are ended at once, at the response's time (without their network
 * timing events), and when it unloads, every open HTTP client span is (the browser cancels what is still in
 * flight), in time for the transport's beacon.
 *
 *     new TracerProvider({ spanProcessors: [createSpanProcessor({ ... })] });
 */
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, Span as SdkSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { encodeSpan } from '@rumkit/otlp';
import type { AttributeValue, Settings } from './config.ts';
import { listen } from './lib/listen.ts';
import { utf8Length } from './lib/utf8Length.ts';
import { responseTimes } from './responseTimes.ts';
import type { PageViews } from './session/pageView.ts';
import type { Session } from './session/session.ts';
import type { Transport } from './transport/index.ts';

export interface SpanProcessorParts {
  settings: Settings;
  session: Session;
  views: PageViews;
  /** `user.*` attributes from `setUser`, read at each span's start. */
  user: () => Record<string, AttributeValue>;
  transport: Transport;
}

const DOCUMENT_LOAD_SPANS = ['documentLoad', 'documentFetch', 'resourceFetch'];

export function createSpanProcessor({ settings, session, views, user, transport }: SpanProcessorParts): SpanProcessor {
  let reportedBeforeSendError = false;
  const openClientSpans = new Set<SdkSpan>();
  let hidden = document.visibilityState === 'hidden';
  /** After `shutdown()`: the SDK still hands over the spans of tracers taken before. */
  let stopped = false;
  const ended: ReadableSpan[] = [];
  const encodeEnded = () => ended.splice(0).forEach(send);
  /** Hidden, unloading, or back (from another tab or the back/forward cache): one handler for all three. */
  const onLifecycle = (event: Event) => {
    const leaving = event.type === 'pagehide';
    hidden = leaving || document.visibilityState === 'hidden';
    if (!hidden) return transport.pageShown();
    transport.pageHidden(leaving);
    for (const span of openClientSpans) {
      const responded = responseTimes.get(span);
      if (leaving || responded) span.end(responded);
    }
    encodeEnded();
  };
  const stopListening = listen(['visibilitychange', 'pagehide', 'pageshow'], onLifecycle);
  // An agent started in a background tab (the async snippet) hears of no change until the page is shown.
  if (hidden) transport.pageHidden(false);
  function send(span: ReadableSpan) {
    let text: string;
    try {
      const encoded = settings.beforeSend ? settings.beforeSend(encodeSpan(span)) : encodeSpan(span);
      if (!encoded) return;
      // What beforeSend returns may hold what JSON cannot (a BigInt, a cycle): that span alone is dropped.
      text = JSON.stringify(encoded);
    } catch (error) {
      // A scrubber that fails must not let the unscrubbed span through; say so once, not per span.
      if (!reportedBeforeSendError) console.error('rumkit: beforeSend failed; such spans are dropped', error);
      reportedBeforeSendError = true;
      return;
    }
    const { name, version } = span.instrumentationScope;
    transport.add({ scope: JSON.stringify({ name, version }), span: text, bytes: utf8Length(text) });
  }
  return {
    onStart(span: SdkSpan) {
      // After shutdown() web vitals still report (the library cannot remove its observers): not even the session
      // may hear of it.
      if (stopped) return;
      if (span.kind === SpanKind.CLIENT) openClientSpans.add(span);
      span.setAttributes({
        ...settings.attributes,
        ...user(),
        'session.id': session.id(),
        // The document's load belongs to the view it loaded, though its spans are made after `load`, when a
        // client-side redirect may have started another.
        ...(DOCUMENT_LOAD_SPANS.includes(span.name) ? views.document : views.current).attributes,
      });
    },
    onEnd(span) {
      openClientSpans.delete(span as SdkSpan);
      // Document load reports every resource the page fetched, the agent's own requests and ignored URLs too;
      // fetch and XHR spans of those URLs are never started, so only its resource spans need the check.
      const url = span.name === 'resourceFetch' && (span.attributes['url.full'] as string | undefined);
      if (stopped || (url && settings.ignoreUrls.some((pattern) => pattern.test(url)))) return;
      // Encoded in a task of their own, not in the one that ended them: document load ends a dozen spans in one.
      // A hidden page may never run a timer again.
      if (hidden) send(span);
      else if (ended.push(span) === 1) setTimeout(encodeEnded);
    },
    forceFlush() {
      encodeEnded();
      return transport.flush();
    },
    shutdown() {
      stopped = true;
      encodeEnded();
      stopListening();
      return transport.shutdown();
    },
  };
}
