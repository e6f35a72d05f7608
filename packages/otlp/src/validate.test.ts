import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnyValue, ExportTraceServiceRequest, Span } from './types.ts';
import { DEFAULT_VALIDATION_LIMITS, ValidationError, validateTraceRequest } from './validate.ts';

const official = JSON.parse(
  readFileSync(new URL('./testdata/small.json', import.meta.url), 'utf8'),
) as ExportTraceServiceRequest;
const NOW_MS = 1795167011402 + 60_000; // a minute after the fixture's spans were recorded
const limits = DEFAULT_VALIDATION_LIMITS;

function spanAt(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name: 'GET',
    kind: 3,
    startTimeUnixNano: String(NOW_MS * 1e6),
    endTimeUnixNano: String(NOW_MS * 1e6 + 5e6),
    ...overrides,
  };
}

function request(spans: unknown[], resourceAttributes: unknown[] = []): unknown {
  return { resourceSpans: [{ resource: { attributes: resourceAttributes }, scopeSpans: [{ spans }] }] };
}

function firstSpan(result: { request: ExportTraceServiceRequest }): Span | undefined {
  return result.request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
}

describe('validateTraceRequest', () => {
  it('accepts what the official OpenTelemetry JSON serializer wrote, unchanged in meaning', () => {
    const result = validateTraceRequest(official, limits, NOW_MS);
    expect(result.rejectedSpans).toBe(0);
    expect(result.acceptedSpans).toBe(5);
    // The serializer writes zero counts, empty lists, status code 0 and small ints as numbers; all mean the same.
    const strip = (r: ExportTraceServiceRequest) =>
      JSON.parse(
        JSON.stringify(r, (k, v) => {
          if ((k.startsWith('dropped') || k === 'code') && v === 0) return undefined;
          if (Array.isArray(v) && v.length === 0) return undefined;
          return k === 'intValue' ? String(v) : v;
        }),
      );
    expect(strip(result.request)).toEqual(strip(official));
  });

  it('throws a ValidationError naming the problem when the envelope is not OTLP', () => {
    expect(() => validateTraceRequest([], limits, NOW_MS)).toThrow(ValidationError);
    expect(() => validateTraceRequest({ resourceSpans: {} }, limits, NOW_MS)).toThrow(/resourceSpans must be an array/);
  });

  it('drops spans with malformed ids and reports them as rejected with a reason', () => {
    const result = validateTraceRequest(
      request([spanAt(), spanAt({ traceId: 'abc' }), spanAt({ spanId: '0000000000000000' })]),
      limits,
      NOW_MS,
    );
    expect(result.acceptedSpans).toBe(1);
    expect(result.rejectedSpans).toBe(2);
    expect(result.errors.join(' ')).toMatch(/traceId is not a non-zero hex id/);
    expect(result.errors.join(' ')).toMatch(/spanId/);
  });

  it('lowercases ids and turns numeric timestamps into decimal strings', () => {
    const span = firstSpan(
      validateTraceRequest(
        request([spanAt({ traceId: '0AF7651916CD43DD8448EB211C80319C', startTimeUnixNano: NOW_MS * 1e6 })]),
        limits,
        NOW_MS,
      ),
    );
    expect(span?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.startTimeUnixNano).toBe(BigInt(NOW_MS * 1e6).toString());
  });

  it('rejects spans more than 60 s in the future or older than the accepted age of the sender clock', () => {
    const ns = (ms: number) => String(ms * 1e6);
    const result = validateTraceRequest(
      request([
        spanAt({ startTimeUnixNano: ns(NOW_MS + 59_000), endTimeUnixNano: ns(NOW_MS + 59_500) }),
        spanAt({ startTimeUnixNano: ns(NOW_MS + 61_000), endTimeUnixNano: ns(NOW_MS + 62_000) }),
        spanAt({ startTimeUnixNano: ns(NOW_MS - limits.maxAgeMs - 1000), endTimeUnixNano: ns(NOW_MS) }),
        spanAt({ endTimeUnixNano: '1' }),
        spanAt({ endTimeUnixNano: `${NOW_MS + 3e12}000000` }),
      ]),
      limits,
      NOW_MS,
    );
    expect(result.acceptedSpans).toBe(1);
    expect(result.rejectedSpans).toBe(4);
    expect(result.errors).toEqual([
      'a span ends too far in the future',
      'a span is older than the accepted age',
      'a span ends before it starts',
    ]);
  });

  it('drops, and counts, span events outside the accepted time range', () => {
    const ns = (ms: number) => String(ms * 1e6);
    const result = validateTraceRequest(
      request([
        spanAt({
          events: [
            { timeUnixNano: ns(NOW_MS), name: 'kept' },
            { timeUnixNano: `${NOW_MS + 3e12}000000`, name: 'future' },
            { timeUnixNano: ns(NOW_MS - limits.maxAgeMs - 1000), name: 'ancient' },
          ],
        }),
      ]),
      limits,
      NOW_MS,
    );
    const span = firstSpan(result);
    expect(span?.events?.map((e) => e.name)).toEqual(['kept']);
    expect(span?.droppedEventsCount).toBe(2);
  });

  it('keeps bytes the protobuf encoder can decode, as standard base64, and drops the rest', () => {
    const attributes = [
      { key: 'std', value: { bytesValue: 'aGk=' } },
      { key: 'empty', value: { bytesValue: '' } },
      { key: 'url-safe, unpadded', value: { bytesValue: '-_8' } },
      { key: 'not base64', value: { bytesValue: '!!!' } },
      { key: 'one char too many', value: { bytesValue: 'aGkab' } },
    ];
    const span = firstSpan(validateTraceRequest(request([spanAt({ attributes })]), limits, NOW_MS));
    expect(span?.attributes).toEqual([
      { key: 'std', value: { bytesValue: 'aGk=' } },
      { key: 'empty', value: { bytesValue: '' } },
      { key: 'url-safe, unpadded', value: { bytesValue: '+/8=' } },
    ]);
    expect(span?.droppedAttributesCount).toBe(2);
  });

  it('caps the number of spans per request', () => {
    const result = validateTraceRequest(request([spanAt(), spanAt(), spanAt()]), { ...limits, maxSpans: 2 }, NOW_MS);
    expect(result.acceptedSpans).toBe(2);
    expect(result.rejectedSpans).toBe(1);
  });

  it('refuses the spans past the cap unread, invalid ones included, and counts the invalid ones within it', () => {
    const spans = [{}, spanAt(), spanAt(), ...Array.from({ length: 100_000 }, () => ({}))];
    const result = validateTraceRequest(request(spans), { ...limits, maxSpans: 3 }, NOW_MS);
    expect(result.acceptedSpans).toBe(2);
    expect(result.rejectedSpans).toBe(100_001);
    // Read, the 100,000 empty spans would have been refused for their ids alone, never for the cap.
    expect(result.errors).toEqual([
      'traceId is not a non-zero hex id of the right length',
      'more than 3 spans in one request',
    ]);
  });

  it('cuts over-long values and drops attributes past the count limit, counting them', () => {
    const attributes = [
      { key: 'long', value: { stringValue: 'x'.repeat(100) } },
      { key: 'b', value: { intValue: 2 } },
      { key: 'c', value: { boolValue: true } },
    ];
    const span = firstSpan(
      validateTraceRequest(
        request([spanAt({ attributes })]),
        { ...limits, maxAttributes: 2, maxAttributeValueLength: 10 },
        NOW_MS,
      ),
    );
    expect(span?.attributes).toEqual([
      { key: 'long', value: { stringValue: 'xxxxxxxxxx' } },
      { key: 'b', value: { intValue: '2' } },
    ]);
    expect(span?.droppedAttributesCount).toBe(1);
  });

  it('keeps integers within int64 and drops the ones past it, which the protobuf encoder would wrap', () => {
    const ints = [
      '9223372036854775807',
      '-9223372036854775808',
      '0000000000000000042',
      '9223372036854775808',
      '-9223372036854775809',
      '9999999999999999999',
    ];
    const attributes = ints.map((intValue, i) => ({ key: `i${i}`, value: { intValue } }));
    const span = firstSpan(validateTraceRequest(request([spanAt({ attributes })]), limits, NOW_MS));
    expect(span?.attributes?.map((kv) => kv.value.intValue)).toEqual(ints.slice(0, 3));
  });

  it('keeps integers sent as JSON numbers past 2^53, as the official serializer sends them', () => {
    const attributes = [2 ** 60, -(2 ** 62), 1.7e18, 2 ** 63, 1.5].map((intValue, i) => ({
      key: `i${i}`,
      value: { intValue },
    }));
    const span = firstSpan(validateTraceRequest(request([spanAt({ attributes })]), limits, NOW_MS));
    expect(span?.attributes?.map((kv) => kv.value.intValue)).toEqual([
      '1152921504606846976',
      '-4611686018427387904',
      '1700000000000000000',
    ]);
    expect(span?.droppedAttributesCount).toBe(2);
  });

  it('reads doubles written as strings, as the protobuf JSON mapping allows, and drops other strings', () => {
    const doubles = ['NaN', 'Infinity', '-Infinity', '1.5', '-2e-3', 0.25, 'fast', '', '1.5.2'];
    const attributes = doubles.map((doubleValue, i) => ({ key: `d${i}`, value: { doubleValue } }));
    const span = firstSpan(validateTraceRequest(request([spanAt({ attributes })]), limits, NOW_MS));
    expect(span?.attributes?.map((kv) => kv.value.doubleValue)).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1.5,
      -0.002,
      0.25,
    ]);
    expect(span?.droppedAttributesCount).toBe(3);
  });

  it('keeps a count of dropped attributes sent without attributes, as protobuf sends it when all were dropped', () => {
    const event = { timeUnixNano: String(NOW_MS * 1e6), name: 'e', droppedAttributesCount: 9 };
    const span = firstSpan(
      validateTraceRequest(request([spanAt({ droppedAttributesCount: 4, events: [event] })]), limits, NOW_MS),
    );
    expect(span?.droppedAttributesCount).toBe(4);
    expect(span?.events?.[0]?.droppedAttributesCount).toBe(9);
  });

  it('reads proto3 JSON as the mapping allows: uint32 fields as decimal strings, a null parent as none', () => {
    const span = firstSpan(
      validateTraceRequest(
        request([spanAt({ flags: '257', droppedAttributesCount: '3', parentSpanId: null })]),
        limits,
        NOW_MS,
      ),
    );
    expect(span).toMatchObject({ flags: 257, droppedAttributesCount: 3 });
    expect(span?.parentSpanId).toBeUndefined();
  });

  it('never counts more dropped attributes, events or links than the uint32 field holds', () => {
    const attributes = Array.from({ length: limits.maxAttributes + 1 }, (_, i) => ({
      key: `k${i}`,
      value: { intValue: '1' },
    }));
    const span = firstSpan(
      validateTraceRequest(
        request([
          spanAt({
            attributes,
            droppedAttributesCount: 0xffffffff,
            events: [{ timeUnixNano: '1', name: 'too old' }],
            droppedEventsCount: 0xffffffff,
          }),
        ]),
        limits,
        NOW_MS,
      ),
    );
    expect(span?.droppedAttributesCount).toBe(0xffffffff);
    expect(span?.droppedEventsCount).toBe(0xffffffff);
  });

  it('keeps links to an invalid (all-zero) context, and drops a malformed link alone, counting it', () => {
    const zero = {
      traceId: '0'.repeat(32),
      spanId: '0'.repeat(16),
      attributes: [{ key: 'm', value: { stringValue: 'x' } }],
    };
    const result = validateTraceRequest(
      request([spanAt({ links: [zero, { traceId: 'nope', spanId: '0'.repeat(16) }] })]),
      limits,
      NOW_MS,
    );
    expect(result.acceptedSpans).toBe(1);
    const span = firstSpan(result);
    expect(span?.links?.map((l) => l.traceId)).toEqual(['0'.repeat(32)]);
    expect(span?.droppedLinksCount).toBe(1);
  });

  it('cuts a trace state over 512 characters between its entries, never inside one', () => {
    const traceState = `v1=${'a'.repeat(250)},v2=${'b'.repeat(249)},ot=th:c8`;
    expect(traceState.length).toBeGreaterThan(512);
    const span = firstSpan(validateTraceRequest(request([spanAt({ traceState })]), limits, NOW_MS));
    expect(span?.traceState).toBe(`v1=${'a'.repeat(250)},v2=${'b'.repeat(249)}`);
  });

  it('drops attribute values nested deeper than the limit instead of recursing without bound', () => {
    let deep: AnyValue = { stringValue: 'leaf' };
    for (let i = 0; i < 10_000; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
    const span = firstSpan(
      validateTraceRequest(
        request([
          spanAt({
            attributes: [
              { key: 'deep', value: deep },
              { key: 'ok', value: { intValue: '1' } },
            ],
          }),
        ]),
        limits,
        NOW_MS,
      ),
    );
    expect(span?.attributes).toEqual([{ key: 'ok', value: { intValue: '1' } }]);
    expect(span?.droppedAttributesCount).toBe(1);
  });

  it('never copies prototype-polluting keys or unknown fields', () => {
    const hostile = JSON.parse(
      `{"resourceSpans":[{"__proto__":{"polluted":1},"scopeSpans":[{"spans":[${JSON.stringify(
        spanAt({ extra: 'field' }),
      ).replace(
        /}$/,
        ',"attributes":[{"key":"__proto__","value":{"stringValue":"x"}},{"key":"constructor","value":{"stringValue":"y"}}]}',
      )}]}]}]}`,
    );
    const result = validateTraceRequest(hostile, limits, NOW_MS);
    const span = firstSpan(result) as unknown as Record<string, unknown>;
    expect(span.extra).toBeUndefined();
    expect(span.attributes ?? []).toEqual([]);
    expect(span.droppedAttributesCount).toBe(2);
    expect(Object.getPrototypeOf(result.request.resourceSpans[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a span whose event carries a malformed timestamp', () => {
    const result = validateTraceRequest(
      request([spanAt({ events: [{ name: 'e', timeUnixNano: 'soon' }] })]),
      limits,
      NOW_MS,
    );
    expect(result.rejectedSpans).toBe(1);
    expect(result.errors[0]).toMatch(/event timeUnixNano/);
  });
});
