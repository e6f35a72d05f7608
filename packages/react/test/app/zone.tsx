/**
 * The third test page (`/zone.html`): the provider starts the agent of `@rumkit/browser/zone`, whose context
 * follows async work, so a fetch made in a timer's promise callback in a hook-made span is still that span's child.
 */
import { init } from '@rumkit/browser/zone';
import { RumkitProvider, useSpan } from '@rumkit/react';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { AgentProbe, agentConfig } from './testKit.tsx';

function AwaitedWork() {
  const traced = useSpan('test.awaited');
  const [status, setStatus] = useState('idle');
  // Promise callbacks and timers, not native `await`: zone.js cannot follow an `await` the browser runs itself
  // (an app's build that targets ES2017 or later keeps it native).
  const run = () =>
    traced(() =>
      new Promise((resolve) => setTimeout(resolve, 10))
        .then(() => fetch('/api/ping'))
        .then((response) => setStatus(response.ok ? 'done' : 'failed')),
    );
  return (
    <p>
      <button type="button" onClick={run}>
        Run work after a timer
      </button>
      <output id="work-status">{status}</output>
    </p>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <RumkitProvider config={agentConfig} init={init}>
      <AgentProbe />
      <AwaitedWork />
    </RumkitProvider>
  </StrictMode>,
);
