/**
 * The script-tag build (`dist/rumkit.iife.js`): starts the agent from the `data-*` attributes of its own
 * `<script>` tag — or from the config of the async loader snippet — replays the calls the snippet queued
 * before the agent arrived, and publishes the agent as `window.rumkit`.
 *
 *     <script src="https://cdn.example.com/rumkit.iife.js" data-endpoint="https://rum.example.com"
 *             data-api-key="pk_…" data-service-name="shop-web"></script>
 */

import type { RumkitAgent } from './agent.ts';
import type { RumkitConfig } from './config.ts';
import { createAgent } from './init.ts';
import { CHUNK_GLOBAL } from './lib/chunkGlobal.ts';
import { configFromDataset } from './lib/configFromDataset.ts';
import { guard } from './lib/guard.ts';
import type * as Xhr from './xhr/index.ts';

/** What the loader snippet leaves on `window.rumkit` (see loader/snippet.html). */
interface LoaderStub {
  /** Calls made before the agent arrived: method name and arguments. */
  q: Array<[keyof RumkitAgent, unknown[]]>;
  /** The config given to the snippet. */
  c: RumkitConfig;
  /** The snippet's `error` and `unhandledrejection` listeners, replaced by the agent's own. */
  e: EventListener;
  r: EventListener;
}

const script = document.currentScript as HTMLScriptElement | null;
const scriptUrl = script?.src || location.href;
const shared = globalThis as unknown as Record<string, Record<string, unknown>>;

/** Loads `rumkit.<name>.js` from beside this script; it registers its exports on the chunk global. */
const loadChunk = <T>(name: string) =>
  new Promise<T>((resolve, reject) => {
    const chunk = document.createElement('script');
    // A page whose CSP allows scripts by nonce allowed this one by its nonce: its chunks carry the same.
    chunk.nonce = script?.nonce ?? '';
    chunk.src = new URL(`rumkit.${name}.js`, scriptUrl).href;
    chunk.onload = () => resolve(shared[CHUNK_GLOBAL]?.[name] as T);
    chunk.onerror = reject;
    document.head.append(chunk);
  });

/** `data-xhr`: XHR spans from the moment the XHR chunk arrives. */
const lazyXhr: Xhr.Feature = {
  start(settings, provider) {
    let stop: (() => void) | undefined;
    let stopped = false;
    loadChunk<typeof Xhr>('xhr').then(
      // Guarded: a file that loads but registers nothing (a stale cache's, a proxy's page) would reject into the
      // page as its own unhandled rejection.
      guard(({ xhr }) => {
        if (!stopped) stop = xhr.start(settings, provider);
      }),
      () => console.error('rumkit: rumkit.xhr.js could not be loaded'),
    );
    return () => {
      stopped = true;
      stop?.();
    };
  },
};

const stub = (window as { rumkit?: LoaderStub }).rumkit;
if (stub?.q) {
  removeEventListener('error', stub.e);
  removeEventListener('unhandledrejection', stub.r);
}
const config = stub?.c ?? configFromDataset(script?.dataset ?? {});
// `xhr` is a switch here (`data-xhr`, the snippet's `xhr: true`): off (`data-xhr="false"`) means no XHR spans.
const agent = createAgent(
  { ...config, xhr: config.xhr ? lazyXhr : undefined },
  { loadDeferred: () => loadChunk('deferred') },
);
Object.assign(window, { rumkit: agent });
for (const [method, args] of stub?.q ?? []) (agent[method] as (...a: unknown[]) => void)(...args);
