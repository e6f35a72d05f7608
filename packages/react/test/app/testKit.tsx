/**
 * What both test pages share: the `window.reactTest` record the tests read (which agent each effect saw, the
 * versions the page runs on), the probe that fills it, the agent's configuration, the traced-work button and the route screens whose mount
 * makes a span.
 */
import type { RumkitAgent } from '@rumkit/browser';
import { useRumkit, useSpan } from '@rumkit/react';
import { version as reactVersion, useEffect, useState } from 'react';
import { version as reactDomVersion } from 'react-dom';

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
  versions: {
    react: reactVersion,
    reactDom: reactDomVersion,
    // Read when asked: a page's chunks may evaluate this module before React Router's.
    get reactRouter() {
      return window.__reactRouterVersion;
    },
  },
};

/** The agent's configuration: the test server is its edge, same origin, below /edge. */
export const agentConfig = { endpoint: `${location.origin}/edge`, apiKey: 'pk_test', serviceName: 'react-test-web' };

/** Records the agent each (StrictMode-doubled) effect run sees. */
export function AgentProbe() {
  const agent = useRumkit();
  useEffect(() => {
    window.reactTest.agents.add(agent);
    window.reactTest.probeEffects++;
  }, [agent]);
  return null;
}

export function TracedWork() {
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

/** A route's page; the span it makes on mount tells the tests which page view was current then. */
export function Screen({ title }: { title: string }) {
  const opened = useSpan('test.screen_opened', { 'test.screen': title });
  useEffect(() => opened(() => undefined), [opened]);
  return <h1>{title}</h1>;
}
