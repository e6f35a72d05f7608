/**
 * Server rendering in Node: importing `@rumkit/react` (and with it the agent) and rendering a tree that uses
 * every part of it reads no browser global, starts nothing, and renders exactly what the tree renders without
 * rumkit. Each Vitest project of this package runs it with the react-dom/server of its React line.
 */
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';

/**
 * Globals only browsers have. Node has none of them, so here, as on any server, code that uses one throws a
 * ReferenceError, while a `typeof` probe (how code tells it is on a server) just sees `undefined`.
 */
const BROWSER_ONLY_GLOBALS = [
  'window',
  'document',
  'location',
  'history',
  'localStorage',
  'sessionStorage',
  'addEventListener',
  'XMLHttpRequest',
  'requestAnimationFrame',
];

/** Node does have `navigator`; the agent reads it when it starts, so every read of it is noted. */
function trapNavigator(): { reads: number; restore: () => void } {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const trap = {
    reads: 0,
    restore: () => original && Object.defineProperty(globalThis, 'navigator', original),
  };
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    get() {
      trap.reads++;
      return original?.get?.call(globalThis) ?? original?.value;
    },
  });
  return trap;
}

describe('server rendering', () => {
  let navigatorTrap: ReturnType<typeof trapNavigator>;
  beforeEach(() => {
    navigatorTrap = trapNavigator();
  });
  afterEach(() => navigatorTrap.restore());

  it('imports and renders without using a browser global, starting the agent or patching fetch', async () => {
    for (const name of BROWSER_ONLY_GLOBALS) expect(name in globalThis, `${name} is absent`).toBe(false);
    const fetchBefore = globalThis.fetch;
    const { createElement: h, version: reactVersion } = await import('react');
    const { renderToString, version: reactDomVersion } = await import('react-dom/server');
    const { RumkitErrorBoundary, RumkitProvider, useRouteChange, useRumkit, useSpan } = await import('./index.ts');
    const { RumkitRoutes } = await import('./reactRouter/index.ts');
    const { Route, StaticRouter } = await import('react-router');

    let agentDuringRender: unknown = 'not rendered';
    let spanRecording: boolean | undefined;
    function Page() {
      agentDuringRender = useRumkit();
      useRouteChange('/docs/7', '/docs/:id');
      const traced = useSpan('render.work');
      spanRecording = traced((span) => span.isRecording());
      return h('h1', null, 'Document 7');
    }
    const tree = (withRumkit: boolean) => {
      const routes = h(
        StaticRouter,
        { location: '/docs/7' },
        h(RumkitRoutes, null, h(Route, { path: '/docs/:id', element: h(Page) })),
      );
      const app = h(RumkitErrorBoundary, { fallback: h('p', null, 'failed') }, routes);
      return withRumkit
        ? h(
            RumkitProvider,
            { config: { endpoint: 'https://rum.example.invalid', apiKey: 'pk_ssr', serviceName: 'ssr-web' } },
            app,
          )
        : app;
    };

    // The project's React line (vitest.config.ts), not whichever React resolution happened to find.
    const { react, reactDom } = inject('reactVersions');
    expect({ react: reactVersion, reactDom: reactDomVersion }).toEqual({ react, reactDom });

    const html = renderToString(tree(true));

    expect(navigatorTrap.reads).toBe(0);
    expect(html).toBe('<h1>Document 7</h1>');
    expect(agentDuringRender).toBeUndefined();
    expect(spanRecording).toBe(false);
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(renderToString(tree(false))).toBe(html);
  });
});
