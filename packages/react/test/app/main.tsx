/**
 * The test app (`/`): StrictMode around a `RumkitProvider` whose edge is the test server (same origin, below /edge), React Router
 * with `RumkitRoutes` (and descendant ones under /guide, and a redirect from /moved), buttons that run work in hook-made spans, and a component that throws while rendering
 * inside a `RumkitErrorBoundary`, and one that throws to the boundary around the whole app, above the provider. `window.reactTest` (./testKit.tsx) tells the tests what the app saw, and which
 * React, React DOM and React Router it runs on, and lets them mount the app again.
 */
import { RumkitErrorBoundary, RumkitProvider } from '@rumkit/react';
import { RumkitRoutes } from '@rumkit/react/react-router';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Navigate, Route, useParams } from 'react-router';
import { AgentProbe, agentConfig, Screen, TracedWork } from './testKit.tsx';

/** Throws an Error, or what some libraries throw instead: a plain object. */
function Explode({ thrown }: { thrown: 'error' | 'object' }): never {
  throw thrown === 'error' ? new Error('render failed on purpose') : { code: 42, reason: 'quota' };
}

function Breakable() {
  const [broken, setBroken] = useState<'error' | 'object'>();
  return (
    <RumkitErrorBoundary fallback={({ error }) => <p role="alert">Fallback: {error.message}</p>}>
      {broken ? (
        <Explode thrown={broken} />
      ) : (
        <>
          <button type="button" onClick={() => setBroken('error')}>
            Break
          </button>
          <button type="button" onClick={() => setBroken('object')}>
            Break with an object
          </button>
        </>
      )}
    </RumkitErrorBoundary>
  );
}

/** Throws past every boundary inside the provider, to the one around the whole app. */
function BreakTheApp() {
  const [broken, setBroken] = useState(false);
  if (broken) throw new Error('the whole app failed on purpose');
  return (
    <button type="button" onClick={() => setBroken(true)}>
      Break the app
    </button>
  );
}

function Document() {
  const { id } = useParams();
  return <Screen title={`Document ${id}`} />;
}

/** Descendant routes: a second `RumkitRoutes` inside a route's element. */
function Guide() {
  return (
    <RumkitRoutes>
      <Route path=":section" element={<GuideSection />} />
    </RumkitRoutes>
  );
}

function GuideSection() {
  const { section } = useParams();
  return <Screen title={`Guide ${section}`} />;
}

const app = (
  <StrictMode>
    <RumkitErrorBoundary fallback={<p role="alert">The app failed</p>}>
      <RumkitProvider config={agentConfig}>
        <BrowserRouter>
          <AgentProbe />
          <nav>
            <Link to="/">Home</Link> <Link to="/docs/42">Document 42</Link> <Link to="/guide/intro">Guide intro</Link>{' '}
            <Link to="/moved">Moved</Link>
          </nav>
          <RumkitRoutes>
            <Route path="/" element={<Screen title="Home" />} />
            <Route path="/docs/:id" element={<Document />} />
            <Route path="/guide/*" element={<Guide />} />
            <Route path="/moved" element={<Navigate to="/docs/7" replace />} />
            <Route
              path="/nested"
              element={
                <RumkitProvider config={{ ...agentConfig, serviceName: 'nested-provider-web' }}>
                  <Screen title="Nested" />
                </RumkitProvider>
              }
            />
          </RumkitRoutes>
          <TracedWork />
          <Breakable />
          <BreakTheApp />
        </BrowserRouter>
      </RumkitProvider>
    </RumkitErrorBoundary>
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
