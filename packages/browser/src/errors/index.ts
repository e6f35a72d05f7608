/**
 * Errors as OpenTelemetry exceptions: an `exception` event (semconv `exception.type`, `exception.message`,
 * `exception.stacktrace`) on the active span, or on a span named `exception` with status ERROR when no span
 * is active. Uncaught errors and unhandled promise rejections are recorded the same way.
 *
 *     const stop = captureUncaughtErrors((error) => recordError(tracer, error));
 *     recordError(tracer, new Error('payment failed'), { 'app.order': 'A-17' });
 */
import { type Attributes, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { listen } from '../lib/listen.ts';

export function recordError(tracer: Tracer, error: unknown, attributes?: Attributes): void {
  const event = { ...exceptionAttributes(error), ...attributes };
  const active = trace.getActiveSpan();
  if (active?.isRecording()) {
    active.addEvent('exception', event);
    return;
  }
  const span = tracer.startSpan('exception');
  span.addEvent('exception', event);
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(event['exception.message']) });
  span.end();
}

export function exceptionAttributes(error: unknown): Record<string, string | undefined> {
  // `throw 'text'` and `Promise.reject(42)` carry no name, message or stack: the value itself is the message.
  const e = Object(error) as Partial<Error>;
  return {
    'exception.type': e.name || typeof error,
    'exception.message': messageOf(e.message ?? error),
    'exception.stacktrace': e.stack,
  };
}

/**
 * A thrown value as text. A plain object's JSON says more than "[object Object]", and one without a prototype
 * (`Object.create(null)`) has no `toString` at all.
 */
function messageOf(value: unknown): string {
  try {
    return value && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))
      ? JSON.stringify(value)
      : String(value);
  } catch {
    // A cycle or a BigInt that JSON cannot hold.
    return typeof value;
  }
}

/** Reports `error` and `unhandledrejection` events until the returned function is called. */
export function captureUncaughtErrors(report: (error: unknown) => void): () => void {
  return listen(['error', 'unhandledrejection'], (event) => {
    // A script error from another origin arrives without `error`; its message is all there is.
    const e = event as ErrorEvent & PromiseRejectionEvent;
    report(event.type === 'error' ? (e.error ?? e.message) : e.reason);
  });
}
