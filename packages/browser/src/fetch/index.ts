/**
 * `fetch` spans (kind CLIENT, stable HTTP semantic conventions) from `@opentelemetry/instrumentation-fetch`;
 * `traceparent`/`tracestate` only to the URLs the user listed.
 *
 *     enableInstrumentation(fetchInstrumentation(httpClientOptions(settings)), provider);
 *
 * The instrumentation ends a span 300 ms after the response; the span processor ends it early, at the
 * response's time (responseTimes.ts), when the page hides or unloads meanwhile (processor.ts).
 *
 * It times the response by reading a clone of its body to the end. A stream (server-sent events, a model's
 * answer token by token) may never end, and the clone, one branch of a tee, kept the connection open after the
 * page cancelled its own reading: the server went on generating. For those the span ends at the headers.
 */
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { FetchInstrumentation, type FetchInstrumentationConfig } from '@opentelemetry/instrumentation-fetch';
import { onePerPage } from '../instrumentations.ts';

type FetchPatch = (original: typeof fetch) => typeof fetch;

export const fetchInstrumentation = onePerPage((config: FetchInstrumentationConfig) => {
  const instrumentation = new FetchInstrumentation(config);
  // The instrumentation writes the trace headers into the caller's init, or into the caller's Request when it
  // is passed alone: a frozen init made fetch() throw synchronously, which fetch never does, and other callers got
  // their object back changed. It gets an init of its own (`ownInit`), or a copy of the Request, and a throw before
  // the request goes out (headers its copy of them refuses, a Request whose body was used) falls back to the
  // untraced fetch, which rejects as fetch does; the span and the resource-timing observer the call had started
  // are ended then.
  const internals = instrumentation as unknown as {
    _patchConstructor(): FetchPatch;
    _createSpan: (...args: unknown[]) => Span | undefined;
    _prepareSpanData: (...args: unknown[]) => { observer?: PerformanceObserver };
  };
  const patch = internals._patchConstructor.bind(instrumentation);
  const createSpan = internals._createSpan.bind(instrumentation);
  const prepareSpanData = internals._prepareSpanData.bind(instrumentation);
  // What the call under way started: only a call with a span has its response cloned by the instrumentation.
  let spanned: Span | undefined;
  let observed: { observer?: PerformanceObserver } | undefined;
  internals._createSpan = (...args) => (spanned = createSpan(...args));
  internals._prepareSpanData = (...args) => (observed = prepareSpanData(...args));
  internals._patchConstructor = () => (original) => {
    const traced = patch()(function (this: unknown, ...args: Parameters<typeof fetch>) {
      const response = original.apply(this, args);
      return spanned ? response.then(headersOnlyForStreams) : response;
    } as typeof fetch);
    return function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      try {
        spanned = observed = undefined;
        // A Request passed alone would get the headers written into it: the copy takes its body over (as fetch
        // would have used it up, streams included, unread) and goes out instead.
        if (!init && input instanceof Request) input = new Request(input);
        return traced.call(this, input, init && ownInit(init));
      } catch (error) {
        observed?.observer?.disconnect();
        spanned?.setStatus({ code: SpanStatusCode.ERROR, message: String(error) }).end();
        return original.call(this, input, init);
      }
    } as typeof fetch;
  };
  return instrumentation;
});

/**
 * An init that fetch reads as the caller's, inherited members and getters included (a spread copy loses them: an
 * init made with `Object.create(defaults)` went out as a GET), whose `headers` the instrumentation may replace.
 * Defined rather than inherited, since assigning over a member of a frozen init throws.
 */
function ownInit(init: RequestInit): RequestInit {
  const own: RequestInit = Object.create(init);
  if ('headers' in init) Object.defineProperty(own, 'headers', { value: init.headers, writable: true });
  return own;
}

/** `text/event-stream`, `application/x-ndjson`, `application/ndjson`. */
const STREAMING = /event-stream|ndjson/i;

/** Gives the instrumentation's one `clone()` of a streamed response a clone without a body to read. */
function headersOnlyForStreams(response: Response): Response {
  if (STREAMING.test(response.headers.get('content-type') ?? '')) {
    Object.defineProperty(response, 'clone', {
      configurable: true,
      value() {
        // The page's own calls go to Response.prototype.clone again.
        delete (response as Partial<Response>).clone;
        return { body: null };
      },
    });
  }
  return response;
}
