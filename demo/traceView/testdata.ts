/**
 * A page view as the demo produces it, in OTLP/JSON: the document load (trace 1), an upload whose browser
 * fetch span has the API's server span and OCR spans under it (trace 2), and an LCP web vital (trace 3), all
 * with the same `rumkit.page_view.id`; plus a third-party call with no server span under it (trace 4).
 */
import type { ExportTraceServiceRequest, KeyValue, Span } from '@rumkit/otlp';

export const PAGE_VIEW = 'a1b2c3d4e5f60718';
export const TRACE = {
  documentLoad: '11111111111111111111111111111111',
  upload: '22222222222222222222222222222222',
  vital: '33333333333333333333333333333333',
  thirdParty: '44444444444444444444444444444444',
};
const T0 = 1_795_000_000_000; // ms

function span(
  traceId: string,
  spanId: string,
  name: string,
  kind: Span['kind'],
  startMs: number,
  endMs: number,
  extra: Partial<Span> = {},
  attributes: Record<string, string> = {},
): Span {
  return {
    traceId,
    spanId,
    name,
    kind,
    startTimeUnixNano: `${T0 + startMs}000000`,
    endTimeUnixNano: `${T0 + endMs}000000`,
    attributes: Object.entries(attributes).map(([key, value]): KeyValue => ({ key, value: { stringValue: value } })),
    ...extra,
  } as Span;
}

const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });
const web = { 'rumkit.page_view.id': PAGE_VIEW, 'rumkit.page.route': '/' };

export const webRequest: ExportTraceServiceRequest = {
  resourceSpans: [
    {
      resource: resource('rumkit-demo-web'),
      scopeSpans: [
        {
          scope: { name: '@rumkit/browser' },
          spans: [
            span(TRACE.documentLoad, '1000000000000001', 'documentLoad', 1, 0, 400, {}, web),
            span(
              TRACE.documentLoad,
              '1000000000000002',
              'documentFetch',
              1,
              5,
              60,
              { parentSpanId: '1000000000000001' },
              web,
            ),
            span(
              TRACE.upload,
              '2000000000000001',
              'POST',
              3,
              5_000,
              5_250,
              {},
              { ...web, 'url.full': 'http://127.0.0.1:1/api/documents' },
            ),
            span(
              TRACE.vital,
              '3000000000000001',
              'web_vital.LCP',
              1,
              9_000,
              9_000,
              {},
              { ...web, 'browser.web_vital.name': 'LCP', 'browser.web_vital.rating': 'good' },
            ),
            span(
              TRACE.thirdParty,
              '4000000000000001',
              'GET',
              3,
              7_000,
              7_050,
              {},
              { ...web, 'url.full': 'http://127.0.0.1:2/api/status' },
            ),
          ],
        },
      ],
    },
  ],
};

export const apiRequest: ExportTraceServiceRequest = {
  resourceSpans: [
    {
      resource: resource('rumkit-demo-api'),
      scopeSpans: [
        {
          scope: { name: '@opentelemetry/instrumentation-http' },
          spans: [
            span(TRACE.upload, '2000000000000002', 'POST /api/documents', 2, 5_020, 5_230, {
              parentSpanId: '2000000000000001',
            }),
            span(TRACE.upload, '2000000000000003', 'ocr.job', 1, 5_030, 5_220, { parentSpanId: '2000000000000002' }),
            span(TRACE.upload, '2000000000000004', 'ocr.extract_text', 1, 5_040, 5_100, {
              parentSpanId: '2000000000000003',
            }),
          ],
        },
      ],
    },
  ],
};
