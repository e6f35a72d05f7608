/**
 * The test app: StrictMode around a `RumkitProvider` whose edge is the test server (same origin, below /edge), React Router
 * with `RumkitRoutes`, buttons that run work in hook-made spans, and a component that throws while rendering
 * inside a `RumkitErrorBoundary`. `window.reactTest` tells the tests what the app saw, and which React, React DOM
 * and React Router it runs on, and lets them mount the app again.
 */
import type { RumkitAgent } from '@rumkit/browser';
import { RumkitErrorBoundary, RumkitProvider, useRumkit, useSpan } from '@rumkit/react';
import { RumkitRoutes } from '@rumkit/react/react-router';
import { version as reactVersion, StrictMode, useEffect, useState } from 'react';
import { version as reactDomVersion } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Route, useParams } from 'react-router';

declare global {
  interface Window {
    reactTest: {
      agents: Set<RumkitAgent | undefined>;
      probeEffects: number;
      /** Unmounts the whole app, provider included, and mounts it again. */
      remount(): void;
      versions: { react: string; reactDom: string; reactRouter: string | undefined };
    };
    /** Set by React Router in browsers when it loads: 7 its version, 8 only its major. */
    __reactRouterVersion?: string;
  }
}
window.reactTest = {
  agents: new Set(),
  probeEffects: 0,
  remount: () => undefined,
  versions: { react: reactVersion, reactDom: reactDomVersion, reactRouter: window.__reactRouterVersion },
};

/** Records the agent each (StrictMode-doubled) effect run sees. */
function AgentProbe() {
  const agent = useRumkit();
  useEffect(() => {
    window.reactTest.agents.add(agent);
    window.reactTest.probeEffects++;
  }, [agent]);
  return null;
}

function TracedWork() {
  const outer = useSpan('test.outer');
  const inner = useSpan('test.inner', { 'test.step': 'ping' });
  const [status, setStatus] = useState('idle');
  const run = () =>
    outer(() => inner(() => fetch('/api/ping').then((response) => setStatus(response.ok ? 'done' : 'failed'))));
  return (
    <p>
      <button type="button" onClick={run}>
        Run traced work
      </button>
      <output id="work-status">{status}</output>
    </p>
  );
}

function Explode(): never {
  throw new Error('render failed on purpose');
}

function Breakable() {
  const [broken, setBroken] = useState(false);
  return (
    <RumkitErrorBoundary fallback={({ error }) => <p role="alert">Fallback: {error.message}</p>}>
      {broken ? (
        <Explode />
      ) : (
        <button type="button" onClick={() => setBroken(true)}>
          Break
        </button>
      )}
    </RumkitErrorBoundary>
  );
}

/** A route's page; the span it makes on mount tells the tests which page view was current then. */
function Screen({ title }: { title: string }) {
  const opened = useSpan('test.screen_opened', { 'test.screen': title });
  useEffect(() => opened(() => undefined), [opened]);
  return <h1>{title}</h1>;
}

function Document() {
  const { id } = useParams();
  return <Screen title={`Document ${id}`} />;
}

const app = (
  <StrictMode>
    <RumkitProvider config={{ endpoint: `${location.origin}/edge`, apiKey: 'pk_test', serviceName: 'react-test-web' }}>
      <BrowserRouter>
        <AgentProbe />
        <nav>
          <Link to="/">Home</Link> <Link to="/docs/42">Document 42</Link>
        </nav>
        <RumkitRoutes>
          <Route path="/" element={<Screen title="Home" />} />
          <Route path="/docs/:id" element={<Document />} />
        </RumkitRoutes>
        <TracedWork />
        <Breakable />
      </BrowserRouter>
    </RumkitProvider>
  </StrictMode>
);
const container = document.getElementById('root') as HTMLElement;
let root = createRoot(container);
root.render(app);
window.reactTest.remount = () => {
  root.unmount();
  root = createRoot(container);
  root.render(app);
};
