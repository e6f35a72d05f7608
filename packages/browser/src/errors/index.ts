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

/** The same uncaught error (by message) is recorded this many times per page load at most. */
const MAX_REPEATS = 10;

/**
 * Reports `error` and `unhandledrejection` events until the returned function is called. An error that repeats
 * (`ResizeObserver loop …` on every frame) is reported MAX_REPEATS times, not thousands of times a minute.
 */
export function captureUncaughtErrors(report: (error: unknown) => void): () => void {
  const seen = new Map<string | undefined, number>();
  return listen(['error', 'unhandledrejection'], (event) => {
    // A script error from another origin arrives without `error`; its message is all there is.
    const e = event as ErrorEvent & PromiseRejectionEvent;
    const error = event.type === 'error' ? (e.error ?? e.message) : e.reason;
    let key: string | undefined;
    try {
      key = exceptionAttributes(error)['exception.message'];
    } catch {
      // A value whose getters throw: recording it fails the same way, inside the agent's guard.
    }
    const count = (seen.get(key) ?? 0) + 1;
    // Bounded: a page whose messages carry ids would grow the map for as long as it lives.
    if (seen.size > 99) seen.clear();
    seen.set(key, count);
    if (count <= MAX_REPEATS) report(error);
  });
}
