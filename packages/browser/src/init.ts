/**
 * Starts the agent: validates the configuration, then composes session and page views, the tracer
 * provider with the consistent sampler, the span processor and transport, and the instrumentations —
 * fetch and errors at once, document load and web vitals after `load` from a second chunk.
 *
 *     const rum = createAgent(config, { loadDeferred: importDeferred });
 */
import { type Attributes, type ContextManager, context, propagation, trace } from '@opentelemetry/api';
import { StackContextManager, TracerProvider } from '@opentelemetry/sdk-trace';
import { encodeAttributes } from '@rumkit/otlp';
import type { RumkitAgent, RumkitUser } from './agent.ts';
import type { LoadDeferred } from './chunks.ts';
import { type AttributeValue, type RumkitConfig, validateConfig } from './config.ts';
import { followEdgeRate, startingRate } from './edgeRate.ts';
import { captureUncaughtErrors, recordError } from './errors/index.ts';
import { fetchInstrumentation } from './fetch/index.ts';
import { httpClientOptions } from './httpClientOptions.ts';
import { enableInstrumentation } from './instrumentations.ts';
import { guard } from './lib/guard.ts';
import { safeStorage } from './lib/storage.ts';
import { createSpanProcessor } from './processor.ts';
import { resourceAttributes } from './resource.ts';
import { consistentSampler } from './sampler.ts';
import { trackPageViews } from './session/pageView.ts';
import { recordPageViews } from './session/pageViewSpans.ts';
import { createSession } from './session/session.ts';
import { traceContextPropagator } from './traceContext.ts';
import { createTransport } from './transport/index.ts';
import { VERSION } from './version.ts';

export interface AgentOptions {
  loadDeferred: LoadDeferred;
  /** `@rumkit/browser/zone` passes a `ZoneContextManager`; the default follows synchronous calls only. */
  contextManager?: ContextManager;
}

const TRACER_NAME = '@rumkit/browser';
let running: RumkitAgent | undefined;

export function createAgent(config: RumkitConfig, options: AgentOptions): RumkitAgent {
  if (running) {
    console.error('rumkit: init() called twice; the first agent runs on');
    return running;
  }
  try {
    const settings = validateConfig(config);
    if (typeof settings === 'string') {
      console.error(settings);
      return inertAgent();
    }
    running = startAgent(settings, options);
    return running;
  } catch (error) {
    console.error('rumkit: the agent could not start', error);
    return inertAgent();
  }
}

function startAgent(settings: Exclude<ReturnType<typeof validateConfig>, string>, options: AgentOptions) {
  const log = settings.debug
    ? (message: string, detail?: unknown) => console.debug(`rumkit: ${message}`, detail ?? '')
    : () => {};
  const storage = safeStorage();
  const views = trackPageViews();
  let user: Record<string, AttributeValue> = {};
  const sampler = consistentSampler(() => startingRate(settings, storage));
  const askEdge = followEdgeRate(settings, storage, sampler.setRate);
  const transport = createTransport(
    settings,
    () => JSON.stringify({ attributes: encodeAttributes(resourceAttributes(settings)) }),
    storage,
    log,
  );
  // No `resource`: the SDK would only hand it to each span, and the agent sends its own (`transport`'s).
  const provider = new TracerProvider({
    sampler,
    spanProcessors: [
      createSpanProcessor({ settings, session: createSession(storage), views, user: () => user, transport }),
    ],
  });
  // False when another OpenTelemetry setup of the page registered first: the agent's spans still flow (its
  // instrumentations hold its provider), and shutdown() must not take the other's away.
  const registered = trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(traceContextPropagator);
  context.setGlobalContextManager((options.contextManager ?? new StackContextManager()).enable());
  const tracer = provider.getTracer(TRACER_NAME, VERSION);

  let stopped = false;
  const disposers = [
    views.stop,
    // The page can reject with anything, getters that throw included: the agent's listener must not throw.
    captureUncaughtErrors(guard((error) => recordError(tracer, error))),
    enableInstrumentation(fetchInstrumentation(httpClientOptions(settings)), provider),
    recordPageViews(views, tracer),
  ];
  if (settings.xhr) disposers.push(settings.xhr.start(settings, provider));
  afterLoad(() => {
    // shutdown() before `load`: nothing more to send, ask or start.
    if (stopped) return;
    transport.sendStored();
    askEdge();
    options.loadDeferred().then(
      // In a task of its own: evaluating the chunk already filled the task that brought it. Guarded, since an
      // error thrown there would reach the page as its own uncaught error.
      (deferred) =>
        setTimeout(
          guard(() => {
            if (!stopped) disposers.push(deferred.startDeferred(provider, { tracer, views }));
          }),
        ),
      (error) => log('document load and web vitals failed to load', error),
    );
  });

  return {
    // The SDK rejects a flush that takes over 30 s; the page asked to send, not to handle the agent's failures.
    flush: () => provider.forceFlush().catch(() => {}),
    async shutdown() {
      if (!stopped) {
        stopped = true;
        for (const dispose of disposers) dispose();
        // Before the flush, which can take the request timeout: an init() meanwhile starts a new agent rather
        // than getting this one, and its global tracer provider is not undone here. (The global provider can be
        // set only once; its propagator and context manager would be the same kind, so the ones registered now
        // serve it.)
        if (registered) trace.disable();
        running = undefined;
      }
      await provider.shutdown();
    },
    setUser: guard((next: RumkitUser | null) => {
      user = {};
      // As strings, as `user.id` is: numeric ids are common, and were dropped without a word.
      for (const key in next) {
        if (['string', 'number', 'boolean'].includes(typeof next[key])) user[`user.${key}`] = String(next[key]);
      }
    }),
    setToken: guard((token: string) => {
      settings.token = token;
    }),
    recordError: guard((error: unknown, attributes?: Attributes) => recordError(tracer, error, attributes)),
    pageView: guard((route?: string) => views.pageView(route)),
    tracer,
  };
}

/** After the page's own `load` handlers, so the document's timing is complete and the page comes first. */
function afterLoad(run: () => void) {
  if (document.readyState === 'complete') setTimeout(run);
  else addEventListener('load', () => setTimeout(run), { once: true });
}

/** What a misconfigured `init()` returns: the same shape, doing nothing. */
function inertAgent(): RumkitAgent {
  const resolved = () => Promise.resolve();
  const nothing = () => {};
  return {
    flush: resolved,
    shutdown: resolved,
    setUser: nothing,
    setToken: nothing,
    recordError: nothing,
    pageView: nothing,
    tracer: trace.getTracer(TRACER_NAME, VERSION),
  };
}
