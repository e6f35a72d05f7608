/**
 * The span `useSpan` hands its work when there is no agent (server rendering, no provider): it records nothing.
 * Written out rather than taken from `@opentelemetry/api`, whose runtime the agent already bundles; importing it
 * here would put a second copy (2.6 KB gzip) into every app.
 */
import type { Span } from '@opentelemetry/api';

const INVALID_CONTEXT = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 };

export const nonRecordingSpan: Span = {
  spanContext: () => INVALID_CONTEXT,
  setAttribute: () => nonRecordingSpan,
  setAttributes: () => nonRecordingSpan,
  addEvent: () => nonRecordingSpan,
  addLink: () => nonRecordingSpan,
  addLinks: () => nonRecordingSpan,
  setStatus: () => nonRecordingSpan,
  updateName: () => nonRecordingSpan,
  end: () => {},
  isRecording: () => false,
  recordException: () => {},
};
