/**
 * The span processor between the SDK and the transport: stamps every span at its start with the session,
 * the page view, the user and the configured attributes; at its end serialises it to OTLP/JSON, lets
 * `beforeSend` see it, and queues it.
 *
 *     new TracerProvider({ spanProcessors: [createSpanProcessor({ ... })] });
 */
import type { Span as SdkSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { encodeSpan } from '@rumkit/otlp';
import type { AttributeValue, Settings } from './config.ts';
import { utf8Length } from './lib/utf8Length.ts';
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

export function createSpanProcessor({ settings, session, views, user, transport }: SpanProcessorParts): SpanProcessor {
  let reportedBeforeSendError = false;
  return {
    onStart(span: SdkSpan) {
      span.setAttributes({
        ...settings.attributes,
        ...user(),
        'session.id': session.id(),
        'rumkit.page_view.id': views.current.id,
        'rumkit.page.route': views.current.route,
      });
    },
    onEnd(span) {
      let encoded = encodeSpan(span);
      if (settings.beforeSend) {
        try {
          encoded = settings.beforeSend(encoded) as typeof encoded;
        } catch (error) {
          // A scrubber that fails must not let the unscrubbed span through; say so once, not per span.
          if (!reportedBeforeSendError) console.error('rumkit: beforeSend threw; such spans are dropped', error);
          reportedBeforeSendError = true;
          return;
        }
        if (!encoded) return;
      }
      const text = JSON.stringify(encoded);
      const { name, version } = span.instrumentationScope;
      transport.add({ scope: JSON.stringify({ name, version }), span: text, bytes: utf8Length(text) });
    },
    forceFlush: () => transport.flush(),
    shutdown: () => transport.shutdown(),
  };
}
