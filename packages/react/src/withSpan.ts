/**
 * Runs a piece of work in a new span, a child of the span active when it is called. The span is active while
 * `work` runs synchronously, so a `fetch` started there is its child (and so is the backend span that fetch
 * causes); it ends when `work` returns, or when the promise `work` returns settles. A throw or a rejection
 * is recorded on the span, which then has status ERROR, and passed on: `withSpan` returns what `work` returned
 * (a thenable that is not a Promise, such as a query builder, as a Promise of its outcome).
 *
 *     const invoice = await withSpan(rum.tracer, 'checkout.pay', (span) => fetch('/api/pay', { method: 'POST' }),
 *       { 'app.cart.items': 3 });
 */
// Types only: the agent bundles the API's runtime, and a second copy would cost every app 2.6 KB gzip.
import type { Attributes, Span, SpanStatusCode, Tracer } from '@opentelemetry/api';

const STATUS_ERROR = 2 satisfies SpanStatusCode.ERROR;

export function withSpan<T>(tracer: Tracer, name: string, work: (span: Span) => T, attributes?: Attributes): T {
  return tracer.startActiveSpan(name, { attributes }, (span) => {
    let result: T;
    try {
      result = work(span);
    } catch (error) {
      fail(span, error);
      throw error;
    }
    if (!isPromiseLike(result)) {
      span.end();
      return result;
    }
    // The caller gets the promise `work` returned, with whatever else it carries (a ky promise's `.json()`). Another
    // thenable may start its work on every `then` (a query builder runs its query each time it is awaited): it is
    // awaited once, now, while the span is active, and the caller gets a promise of its outcome instead.
    const settled = result instanceof Promise ? result : new Promise((resolve, reject) => result.then(resolve, reject));
    // The span ends on a branch of its own, which takes the rejection it records: no unhandled rejection of its own.
    settled.then(
      () => span.end(),
      (error: unknown) => fail(span, error),
    );
    return settled as T;
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: STATUS_ERROR, message: error instanceof Error ? error.message : String(error) });
  span.end();
}
