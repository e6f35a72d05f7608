import { SpanKind as ApiSpanKind, context, SpanStatusCode, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { encodeSpans, encodeValue, hrTimeToNanos } from './encodeSpans.ts';
import { SpanKind } from './types.ts';
import { DEFAULT_VALIDATION_LIMITS, validateTraceRequest } from './validate.ts';

function recordSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop-web', 'browser.mobile': false }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('@rumkit/browser', '0.1.0');
  const parent = tracer.startSpan('documentLoad', { startTime: [1_700_000_000, 5] });
  parent.addEvent('domInteractive', { 'dom.nodes': 120 }, [1_700_000_000, 900_000_000]);
  parent.end([1_700_000_001, 0]);
  const child = tracer.startSpan(
    'HTTP POST',
    {
      kind: ApiSpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST',
        'http.response.status_code': 503,
        'web_vital.value': 0.25,
        tags: ['a', 'b'],
      },
      links: [{ context: parent.spanContext(), attributes: { 'link.kind': 'follows' } }],
    },
    trace.setSpan(context.active(), parent),
  );
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream unavailable' });
  child.end();
  return exporter.getFinishedSpans();
}

describe('encodeSpans', () => {
  it('writes what the official OTLP/JSON serializer writes', () => {
    const spans = recordSpans();
    const ours = encodeSpans(spans);
    const official = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    expect(normalize(ours)).toEqual(normalize(official));
  });

  it('numbers span kinds the OTLP way and links children to their parent', () => {
    const [resourceSpans] = encodeSpans(recordSpans()).resourceSpans;
    const [documentLoad, post] = resourceSpans?.scopeSpans[0]?.spans ?? [];
    expect(documentLoad?.kind).toBe(SpanKind.INTERNAL);
    expect(post?.kind).toBe(SpanKind.CLIENT);
    expect(post?.parentSpanId).toBe(documentLoad?.spanId);
    expect(documentLoad?.startTimeUnixNano).toBe('1700000000000000005');
  });

  it('keeps scopes apart that differ only in their schema URL, as the official serializer does', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    for (const schemaUrl of ['https://opentelemetry.io/schemas/1.20.0', 'https://opentelemetry.io/schemas/1.30.0']) {
      provider.getTracer('s', '1', { schemaUrl }).startSpan('x').end();
    }
    const scopes = encodeSpans(exporter.getFinishedSpans()).resourceSpans.flatMap((rs) => rs.scopeSpans);
    expect(scopes.map((ss) => [ss.schemaUrl, ss.spans.length])).toEqual([
      ['https://opentelemetry.io/schemas/1.20.0', 1],
      ['https://opentelemetry.io/schemas/1.30.0', 1],
    ]);
  });

  it('writes NaN and ±Infinity as proto3 JSON strings, which the edge reads back, where JSON would write null', () => {
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5];
    const attributes = values.map((v, i) => ({ key: `v${i}`, value: encodeValue(v) ?? {} }));
    expect(attributes.map((kv) => kv.value)).toEqual([
      { doubleValue: 'NaN' },
      { doubleValue: 'Infinity' },
      { doubleValue: '-Infinity' },
      { doubleValue: 1.5 },
    ]);
    const nowNs = String(BigInt(Date.now()) * 1_000_000n);
    const span = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 's', kind: 1 };
    const spans = [{ ...span, startTimeUnixNano: nowNs, endTimeUnixNano: nowNs, attributes }];
    const sent = JSON.parse(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    const { request } = validateTraceRequest(sent, DEFAULT_VALIDATION_LIMITS, Date.now());
    const read = request.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes;
    expect(read?.map((kv) => kv.value.doubleValue)).toEqual(values);
  });

  it('writes nanoseconds as exact decimal strings', () => {
    expect(hrTimeToNanos([1_732_000_000, 123_456_789])).toBe('1732000000123456789');
    expect(hrTimeToNanos([0, 42])).toBe('42');
  });
});

/** Both sides as plain data with int64 and enum spellings unified. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => {
    if (key === 'intValue' || key.endsWith('UnixNano')) return String(v);
    if (Array.isArray(v) && v.length === 0) return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return undefined;
    if (key === 'droppedAttributesCount' || key === 'droppedEventsCount' || key === 'droppedLinksCount')
      return v || undefined;
    return v;
  });
}
