import {
  context,
  defaultTextMapGetter as getter,
  ROOT_CONTEXT,
  defaultTextMapSetter as setter,
  trace,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { createTraceState, traceContextPropagator } from './traceContext.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const spanId = '00f067aa0ba902b7';

describe('traceContextPropagator', () => {
  it('writes traceparent and tracestate of the active span', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId,
      traceFlags: 1,
      traceState: createTraceState('ot=th:c'),
    });
    const carrier: Record<string, string> = {};
    traceContextPropagator.inject(ctx, carrier, setter);
    expect(carrier).toEqual({ traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'ot=th:c' });
  });

  it('writes nothing without a valid span or while tracing is suppressed', () => {
    const carrier: Record<string, string> = {};
    traceContextPropagator.inject(ROOT_CONTEXT, carrier, setter);
    const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: 1 });
    traceContextPropagator.inject(suppressTracing(ctx), carrier, setter);
    expect(carrier).toEqual({});
  });

  it('reads a remote parent, and round-trips what it wrote', () => {
    const ctx = traceContextPropagator.extract(
      context.active(),
      { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'ot=th:8,vendor=x' },
      getter,
    );
    const span = trace.getSpanContext(ctx);
    expect(span).toMatchObject({ traceId, spanId, traceFlags: 1, isRemote: true });
    expect(span?.traceState?.get('vendor')).toBe('x');
    const carrier: Record<string, string> = {};
    traceContextPropagator.inject(ctx, carrier, setter);
    expect(carrier).toEqual({ traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'ot=th:8,vendor=x' });
  });

  it('ignores malformed, all-zero and version-ff headers', () => {
    for (const traceparent of [
      'garbage',
      `00-${'0'.repeat(32)}-${spanId}-01`,
      `ff-${traceId}-${spanId}-01`,
      `00-${traceId}-${spanId}-01-extra`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
    ]) {
      expect(
        trace.getSpanContext(traceContextPropagator.extract(ROOT_CONTEXT, { traceparent }, getter)),
      ).toBeUndefined();
    }
  });

  it('accepts a later version with extra fields', () => {
    const ctx = traceContextPropagator.extract(ROOT_CONTEXT, { traceparent: `01-${traceId}-${spanId}-01-abc` }, getter);
    expect(trace.getSpanContext(ctx)?.spanId).toBe(spanId);
  });
});

describe('createTraceState', () => {
  it('moves a set key to the front and leaves the original unchanged', () => {
    const state = createTraceState('a=1,b=2');
    expect(state.set('b', '3').serialize()).toBe('b=3,a=1');
    expect(state.unset('a').serialize()).toBe('b=2');
    expect(state.serialize()).toBe('a=1,b=2');
  });
});
