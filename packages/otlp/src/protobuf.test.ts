import { readFileSync } from 'node:fs';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTraceRequest,
  decodeTraceResponse,
  encodeTraceRequest,
  encodeTraceResponse,
  ProtobufError,
} from './protobuf.ts';
import type { AnyValue, ExportTraceServiceRequest } from './types.ts';

// Made by the official OpenTelemetry JSON and protobuf serializers from the same spans
// (../shared/bench/ingest/gen-payloads.mjs).
const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const officialJson = JSON.parse(fixture('small.json').toString()) as ExportTraceServiceRequest;
const officialProtobuf = new Uint8Array(fixture('small.pb'));

describe('decodeTraceRequest', () => {
  it('reads what the official protobuf serializer wrote as the official JSON serializer wrote it', () => {
    expect(normalize(decodeTraceRequest(officialProtobuf))).toEqual(normalize(officialJson));
  });

  it('decodes a request encoded by the official serializer from live SDK spans', async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(
      '@opentelemetry/sdk-trace-base'
    );
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer('t').startSpan('upload', { attributes: { n: -5, big: 2 ** 40, ok: true } });
    span.end();
    const [sdkSpan] = exporter.getFinishedSpans();
    const bytes = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans()) as Uint8Array;
    const decoded = decodeTraceRequest(bytes).resourceSpans[0]?.scopeSpans[0]?.spans[0];
    expect(decoded?.traceId).toBe(sdkSpan?.spanContext().traceId);
    expect(decoded?.spanId).toBe(sdkSpan?.spanContext().spanId);
    expect(decoded?.attributes).toEqual([
      { key: 'n', value: { intValue: '-5' } },
      { key: 'big', value: { intValue: String(2 ** 40) } },
      { key: 'ok', value: { boolValue: true } },
    ]);
  });

  it('leaves values nested deeper than the limit unread, as an empty list, instead of overflowing the stack', () => {
    const deep = nestInKvlists(Uint8Array.of(0x0a, 0x01, 0x40), 10_000); // AnyValue { stringValue: '@' }
    expect(decodeTraceRequest(nestInKvlists(Uint8Array.of(0x0a, 0x01, 0x40), 3))).toEqual(
      requestWithAttribute(
        [1, 2, 3].reduce<AnyValue>((value) => ({ kvlistValue: { values: [{ key: 'k', value }] } }), {
          stringValue: '@',
        }),
        true,
      ),
    );
    // Past the default limit (the value and 32 levels below it) the rest is one empty list, whatever it held.
    let value = decodeTraceRequest(deep).resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes?.[0]?.value;
    let levels = 0;
    while (value?.kvlistValue?.values.length) {
      levels++;
      value = value.kvlistValue.values[0]?.value;
    }
    expect([levels, value]).toEqual([33, { kvlistValue: { values: [] } }]);
  });

  it('accepts nesting up to the limit', () => {
    let value: AnyValue = { intValue: '1' };
    for (let i = 0; i < 5; i++) value = { arrayValue: { values: [value] } };
    const request = requestWithAttribute(value);
    expect(decodeTraceRequest(encodeTraceRequest(request), { maxDepth: 5 })).toEqual(request);
    expect(decodeTraceRequest(encodeTraceRequest(request), { maxDepth: 4 })).not.toEqual(request);
  });

  it('builds the first maxSpans spans and leaves the rest unread, as empty stand-ins', () => {
    const span = (name: string) => ({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      name,
      kind: 1 as const,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
    });
    const request: ExportTraceServiceRequest = {
      resourceSpans: [
        { scopeSpans: [{ spans: [span('a'), span('b')] }] },
        { scopeSpans: [{ spans: [span('c')] }, { spans: [span('d'), span('e')] }] },
      ],
    };
    const decoded = decodeTraceRequest(encodeTraceRequest(request), { maxSpans: 3 });
    const names = decoded.resourceSpans.flatMap((rs) => rs.scopeSpans.map((ss) => ss.spans.map((s) => s.name)));
    expect(names).toEqual([['a', 'b'], ['c'], [undefined, undefined]]);

    // Unread means unchecked too: a span past the limit whose inside is malformed costs nothing.
    const body = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span('a'), span('b')] }] }] });
    const badName = body.lastIndexOf(0x62); // the 'b' of the second span's name
    const broken = body.slice();
    broken[badName] = 0xff; // not UTF-8
    expect(() => decodeTraceRequest(broken)).toThrow(ProtobufError);
    expect(decodeTraceRequest(broken, { maxSpans: 1 }).resourceSpans[0]?.scopeSpans[0]?.spans).toHaveLength(2);
  });

  it('reads an id far longer than 16 bytes as an invalid one, for validation to reject its span, not overflowing', () => {
    const span = {
      traceId: 'ab'.repeat(100_000),
      spanId: 'cd'.repeat(70_000),
      name: 'long ids',
      kind: 1 as const,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
      links: [{ traceId: 'ef'.repeat(80_000), spanId: 'b7ad6b7169203331' }],
    };
    const decoded = decodeTraceRequest(encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }));
    const read = decoded.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    expect(read?.name).toBe('long ids');
    expect(read?.traceId).toBe('ab'.repeat(17));
    expect(read?.spanId).toBe('cd'.repeat(17));
    expect(read?.links?.[0]).toMatchObject({ traceId: 'ef'.repeat(17), spanId: 'b7ad6b7169203331' });
  });

  it('merges a message field sent twice, as protobuf does, and keeps the last member of a value', () => {
    const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
    const field = (no: number, payload: number[]) => [(no << 3) | 2, ...varint(payload.length), ...payload];
    const text = (value: string) => [...new TextEncoder().encode(value)];
    const fixed64 = (no: number, n: number) => [(no << 3) | 1, n, 0, 0, 0, 0, 0, 0, 0];
    const keyValue = (key: string, ...values: number[][]) => [
      ...field(1, text(key)),
      ...values.flatMap((v) => field(2, v)),
    ];
    const span = [
      ...field(1, Array(16).fill(0xab)),
      ...field(2, Array(8).fill(0xcd)),
      ...field(5, text('s')),
      ...fixed64(7, 1),
      ...fixed64(8, 2),
      // A string, then an int: the int is the value.
      ...field(9, keyValue('k', field(1, text('first')), [0x18, 7])),
      // Status as two messages: the code in one, the message in the other.
      ...field(15, [0x18, 2]),
      ...field(15, field(2, text('boom'))),
    ];
    const resourceSpans = [
      ...field(1, field(1, keyValue('a', field(1, text('x'))))),
      ...field(1, field(1, keyValue('b', field(1, text('y'))))),
      ...field(2, field(2, span)),
    ];
    const decoded = decodeTraceRequest(Uint8Array.from(field(1, resourceSpans)));
    const rs = decoded.resourceSpans[0];
    expect(rs?.resource?.attributes.map((kv) => kv.key)).toEqual(['a', 'b']);
    const read = rs?.scopeSpans[0]?.spans[0];
    expect(read?.status).toEqual({ code: 2, message: 'boom' });
    expect(read?.attributes?.[0]?.value).toEqual({ intValue: '7' });
  });

  it('skips unknown groups, nested ones too, where a sender has them', () => {
    const span = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      name: 'with groups',
      kind: 1 as const,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
    };
    const body = encodeTraceRequest({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
    // Field 9 as a group holding a varint and a group of field 10, at the top level before the request's field.
    const group = [0x4b, 0x08, 0x01, 0x53, 0x10, 0x02, 0x54, 0x4c];
    const decoded = decodeTraceRequest(Uint8Array.from([...group, ...body]));
    expect(decoded.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name).toBe('with groups');
  });

  it('rejects truncated and malformed input with a ProtobufError', () => {
    for (let cut = 1; cut < officialProtobuf.length; cut += 37) {
      expect(() => decodeTraceRequest(officialProtobuf.subarray(0, cut))).toThrow(ProtobufError);
    }
    expect(() => decodeTraceRequest(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/past the end/);
    expect(() => decodeTraceRequest(new Uint8Array([0x0b]))).toThrow(/group has no end/);
    expect(() => decodeTraceRequest(new Uint8Array([0x0b, 0x14]))).toThrow(/another field number/);
    expect(() => decodeTraceRequest(new Uint8Array([0x0c]))).toThrow(/wire type 4/);
    const deep = [...Array(1000).fill(0x0b), ...Array(1000).fill(0x0c)];
    expect(() => decodeTraceRequest(Uint8Array.from(deep))).toThrow(/too deep/);
  });

  it('throws nothing but ProtobufError on random bytes', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: random() % 200 }, () => random() & 0xff);
      try {
        decodeTraceRequest(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtobufError);
      }
    }
  });
});

describe('encodeTraceRequest', () => {
  it('round-trips the official fixture', () => {
    const decoded = decodeTraceRequest(officialProtobuf);
    expect(normalize(decodeTraceRequest(encodeTraceRequest(decoded)))).toEqual(normalize(decoded));
  });

  it('round-trips every value type, unicode and long strings', () => {
    const request = requestWithAttribute({
      kvlistValue: {
        values: [
          { key: 'text', value: { stringValue: `héllo ✓ 🎉 ${'x'.repeat(70_000)}` } },
          { key: 'café', value: { stringValue: 'ünï ✓ 🎉' } },
          { key: 'bom', value: { stringValue: '\uFEFFstarts with a byte-order mark' } },
          { key: 'medium', value: { stringValue: `é${'x'.repeat(200)}` } },
          { key: 'neg', value: { intValue: '-9223372036854775808' } },
          { key: 'max', value: { intValue: '9223372036854775807' } },
          { key: 'pi', value: { doubleValue: Math.PI } },
          { key: 'no', value: { boolValue: false } },
          { key: 'raw', value: { bytesValue: 'AAEC/w==' } },
          { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } } },
        ],
      },
    });
    expect(decodeTraceRequest(encodeTraceRequest(request))).toEqual(request);
  });

  it('writes 64-bit timestamps exactly, across the whole unsigned range', () => {
    for (const time of [
      '0',
      '1',
      '4294967295',
      '4294967296',
      '9007199254740993',
      '1732000000123456789',
      '1732000000000000001',
      '18446744073709551615',
    ]) {
      const request = requestWithAttribute({ boolValue: true });
      const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
      if (!span) throw new Error('fixture has no span');
      span.startTimeUnixNano = time;
      span.endTimeUnixNano = time;
      const decoded = decodeTraceRequest(encodeTraceRequest(request)).resourceSpans[0]?.scopeSpans[0]?.spans[0];
      expect([decoded?.startTimeUnixNano, decoded?.endTimeUnixNano]).toEqual([time, time]);
    }
  });

  it('writes any 64-bit timestamp exactly', () => {
    const request = requestWithAttribute({ boolValue: true });
    const span = request.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    if (!span) throw new Error('fixture has no span');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (time) => {
        span.startTimeUnixNano = String(time);
        const decoded = decodeTraceRequest(encodeTraceRequest(request)).resourceSpans[0]?.scopeSpans[0]?.spans[0];
        expect(decoded?.startTimeUnixNano).toBe(String(time));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes int64 values exactly on both sides of the fast path for small non-negative ones', () => {
    const cases: Array<[string | number, string]> = [
      ['0', '0'],
      ['127', '127'],
      ['128', '128'],
      ['4294967296', '4294967296'],
      ['999999999999999', '999999999999999'], // 15 digits: the longest string without BigInt
      ['9007199254740993', '9007199254740993'], // 2^53 + 1: not exact as a double
      ['-1', '-1'],
      ['007', '7'],
      ['12 ', '12'], // not plain digits: read as BigInt reads it
      [42, '42'],
      [2 ** 53 - 1, '9007199254740991'],
      [-5, '-5'],
    ];
    for (const [intValue, expected] of cases) {
      const encoded = encodeTraceRequest(requestWithAttribute({ intValue }));
      const decoded = decodeTraceRequest(encoded).resourceSpans[0]?.scopeSpans[0]?.spans[0]?.attributes?.[0];
      expect([intValue, decoded?.value.intValue]).toEqual([intValue, expected]);
    }
  });
});

describe('trace responses', () => {
  it('round-trips a partial success', () => {
    const response = { partialSuccess: { rejectedSpans: '3', errorMessage: '3 spans ended in the future' } };
    expect(decodeTraceResponse(encodeTraceResponse(response))).toEqual(response);
    expect(encodeTraceResponse({ partialSuccess: {} })).toHaveLength(0);
  });
});

/**
 * An attribute whose value is `levels` kvlists deep, built iteratively: the recursive encoder would
 * overflow the stack itself. Each level is `KeyValue{key:'k', value: AnyValue{kvlist:{values:[inner]}}}`.
 */
function nestInKvlists(leafAnyValue: Uint8Array, levels: number): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return out;
  };
  const headers: number[][] = [];
  let innerLength = leafAnyValue.length;
  for (let i = 0; i < levels; i++) {
    // AnyValue.kvlist_value(6) > KeyValueList.values(1) > KeyValue{ key(1)='k', value(2)=inner }
    const keyValueLength = 3 + 1 + varint(innerLength).length + innerLength;
    const listLength = 1 + varint(keyValueLength).length + keyValueLength;
    const header = [
      0x32,
      ...varint(listLength),
      0x0a,
      ...varint(keyValueLength),
      0x0a,
      0x01,
      0x6b,
      0x12,
      ...varint(innerLength),
    ];
    headers.push(header);
    innerLength += header.length;
  }
  // Span attribute KeyValue{ key='value', value=<outermost AnyValue> } inside the usual envelope.
  const attribute = [0x0a, 0x05, ...new TextEncoder().encode('value'), 0x12, ...varint(innerLength)];
  const body = [...headers.reverse().flat(), ...leafAnyValue];
  const span = [0x4a, ...varint(attribute.length + body.length), ...attribute];
  const spanBody = [...span, ...body];
  const scopeSpans = [0x12, ...varint(spanBody.length), ...spanBody];
  const resourceSpans = [0x12, ...varint(scopeSpans.length), ...scopeSpans];
  return Uint8Array.from([0x0a, ...varint(resourceSpans.length), ...resourceSpans]);
}

function requestWithAttribute(value: AnyValue, bare = false): ExportTraceServiceRequest {
  if (bare) {
    const span = { traceId: '', spanId: '', name: '', kind: 0 as const, startTimeUnixNano: '0', endTimeUnixNano: '0' };
    return { resourceSpans: [{ scopeSpans: [{ spans: [{ ...span, attributes: [{ key: 'value', value }] }] }] }] };
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'test' } }] },
        scopeSpans: [
          {
            scope: { name: 'scope' },
            spans: [
              {
                traceId: '0af7651916cd43dd8448eb211c80319c',
                spanId: 'b7ad6b7169203331',
                name: 'span',
                kind: 1,
                startTimeUnixNano: '1732000000000000000',
                endTimeUnixNano: '1732000000123456789',
                attributes: [{ key: 'value', value }],
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Unifies int64 spellings (number or string) and drops empty and zero defaults, which protobuf cannot tell apart. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => {
    if (key === 'intValue' || key.endsWith('UnixNano')) return String(v);
    if (Array.isArray(v) && v.length === 0) return undefined;
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) return undefined;
    if (key === 'status' && !v.code && !v.message) return undefined;
    if (v === 0 || v === '') return key === 'kind' || key === 'code' ? v : undefined;
    return v;
  });
}
