/**
 * A function that runs work in a span named `name` (see `withSpan`), for event handlers and effects.
 *
 *     const traceUpload = useSpan('document.upload', { 'app.form': 'upload' });
 *     const onSubmit = () => traceUpload(() => fetch(`${api}/api/documents`, { method: 'POST', body }));
 *
 * The function keeps its identity across renders and always uses the latest committed `attributes`. Without an agent
 * (server rendering, no provider) the work still runs, with a span that records nothing.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { useCallback, useRef } from 'react';
import { nonRecordingSpan } from './nonRecordingSpan.ts';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect.ts';
import { useRumkit } from './useRumkit.ts';
import { withSpan } from './withSpan.ts';

export type SpanRunner = <T>(work: (span: Span) => T) => T;

export function useSpan(name: string, attributes?: Attributes): SpanRunner {
  const agent = useRumkit();
  const latestAttributes = useRef(attributes);
  // Once the render commits: a render React discards (a transition that suspends) must not lend its attributes.
  useIsomorphicLayoutEffect(() => {
    latestAttributes.current = attributes;
  });
  return useCallback(
    <T>(work: (span: Span) => T) =>
      agent ? withSpan(agent.tracer, name, work, latestAttributes.current) : work(nonRecordingSpan),
    [agent, name],
  );
}
