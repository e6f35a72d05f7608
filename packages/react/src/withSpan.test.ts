/**
 * `withSpan` with the OpenTelemetry SDK's own tracer: what the caller gets back is what its work returned, and the
 * span ends, with the error recorded, when that settles.
 */
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { withSpan } from './withSpan.ts';

const exporter = new InMemorySpanExporter();
const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('test');
const settled = () => new Promise((resolve) => setTimeout(resolve));
const finished = () => exporter.getFinishedSpans().map((s) => ({ name: s.name, status: s.status.code }));

afterEach(() => exporter.reset());

describe('withSpan', () => {
  it('returns the promise the work returned, methods of its own included, and ends the span once it resolves', async () => {
    let resolve: (value: number) => void = () => {};
    const request = Object.assign(new Promise<number>((r) => (resolve = r)), { abort: () => 'aborted' });
    const traced = withSpan(tracer, 'app.load', () => request);
    expect(traced).toBe(request);
    expect(traced.abort()).toBe('aborted');
    await settled();
    expect(finished()).toEqual([]);
    resolve(42);
    expect(await traced).toBe(42);
    await settled();
    expect(finished()).toEqual([{ name: 'app.load', status: 0 }]);
  });

  it('records a rejection on the span and passes it on, leaving no unhandled rejection of its own', async () => {
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', note);
    try {
      const failing = Promise.reject(new Error('boom'));
      await expect(withSpan(tracer, 'app.save', () => failing)).rejects.toThrow('boom');
      await settled();
      await settled();
      expect(finished()).toEqual([{ name: 'app.save', status: 2 }]);
      expect(exporter.getFinishedSpans()[0]?.events.map((e) => e.name)).toEqual(['exception']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', note);
    }
  });

  it('awaits a thenable that is not a Promise once, at once, so that work it starts on each then() runs once', async () => {
    // A query builder: each then() sends the query again.
    const sent: string[] = [];
    const query = (outcome: 'ok' | 'fail') => ({
      // biome-ignore lint/suspicious/noThenProperty: the lazy thenable under test
      then(ok: (rows: string[]) => void, fail: (error: Error) => void) {
        sent.push(outcome);
        return Promise.resolve().then(() => (outcome === 'ok' ? ok(['row']) : fail(new Error('denied'))));
      },
    });
    const traced = withSpan(tracer, 'app.query', () => query('ok'));
    expect(sent).toEqual(['ok']);
    expect(await traced).toEqual(['row']);
    await expect(withSpan(tracer, 'app.insert', () => query('fail'))).rejects.toThrow('denied');
    expect(sent).toEqual(['ok', 'fail']);
    await settled();
    expect(finished()).toEqual([
      { name: 'app.query', status: 0 },
      { name: 'app.insert', status: 2 },
    ]);
  });

  it('ends the span at once for a value, and records a throw before passing it on', () => {
    expect(withSpan(tracer, 'app.sum', () => 3)).toBe(3);
    expect(() =>
      withSpan(tracer, 'app.fail', () => {
        throw new TypeError('bad');
      }),
    ).toThrow('bad');
    expect(finished()).toEqual([
      { name: 'app.sum', status: 0 },
      { name: 'app.fail', status: 2 },
    ]);
  });
});
