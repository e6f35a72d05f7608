/**
 * Measure: derives the RUM metrics from every accepted span, before sampling drops any, so dashboards
 * stay exact whatever the trace sampling rate.
 *
 *     measure(batch, tenant.id, metrics);
 *
 * What it reads is the browser agent's contract: web-vital spans carry `browser.web_vital.name|value|
 * rating` (value in ms, CLS unitless; the older `web_vital.*` names of other agents are read too); fetch spans are kind CLIENT with `http.request.method`, `url.full`,
 * `http.response.status_code`; JS errors are span events named `exception`; a page view is a
 * `documentLoad` span (or a `page_view` span for soft navigations); `rumkit.page.route` names the route
 * and the resource's `service.name` the service.
 */
import { type AnyValue, type ExportTraceServiceRequest, type KeyValue, SpanKind } from '@rumkit/otlp';
import type { EdgeMetrics } from '../telemetry/edgeMetrics.ts';

const PAGE_VIEW_SPANS = new Set(['documentLoad', 'page_view']);

export function measure(request: ExportTraceServiceRequest, tenant: string, metrics: EdgeMetrics): void {
  for (const rs of request.resourceSpans) {
    const resource = rs.resource?.attributes ?? [];
    const service = stringAttr(resource, 'service.name') ?? 'unknown_service';
    const resourceRoute = stringAttr(resource, 'rumkit.page.route');
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const attributes = span.attributes ?? [];
        const route = stringAttr(attributes, 'rumkit.page.route') ?? resourceRoute ?? 'unknown';
        const vitalPrefix =
          stringAttr(attributes, 'browser.web_vital.name') !== undefined ? 'browser.web_vital' : 'web_vital';
        const vitalName = stringAttr(attributes, `${vitalPrefix}.name`);
        if (vitalName !== undefined) {
          const histogram = metrics.webVitals[vitalName as keyof EdgeMetrics['webVitals']];
          const value = numberAttr(attributes, `${vitalPrefix}.value`);
          if (histogram && value !== undefined && value >= 0) {
            histogram.observe({ tenant, service, route }, vitalName === 'CLS' ? value : value / 1000);
            const rating = stringAttr(attributes, `${vitalPrefix}.rating`);
            if (rating)
              metrics.webVitalRatings.add({ tenant, service, route, metric: vitalName.toLowerCase(), rating });
          }
        }
        const method = stringAttr(attributes, 'http.request.method');
        if (span.kind === SpanKind.CLIENT && method !== undefined) {
          const seconds = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e9;
          metrics.fetchDuration.observe(
            {
              tenant,
              service,
              endpoint: endpointOf(
                method,
                stringAttr(attributes, 'url.full'),
                stringAttr(attributes, 'server.address'),
              ),
              status_class: statusClass(numberAttr(attributes, 'http.response.status_code')),
            },
            seconds,
          );
        }
        if (PAGE_VIEW_SPANS.has(span.name)) metrics.pageViews.add({ tenant, service, route });
        for (const event of span.events ?? []) {
          if (event.name !== 'exception') continue;
          const type = stringAttr(event.attributes ?? [], 'exception.type') ?? 'Error';
          metrics.jsErrors.add({ tenant, service, route, type });
        }
      }
    }
  }
}

/** `GET api.example.com /users/:id`: method, host and path, with ids collapsed so that series stay few. */
export function endpointOf(method: string, url: string | undefined, serverAddress: string | undefined): string {
  const match = url ? /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^?#]*)/i.exec(url) : null;
  const host = serverAddress ?? match?.[1]?.replace(/^.*@/, '') ?? 'unknown';
  const path = match?.[2] || '/';
  const template = path
    .split('/')
    .slice(0, 8)
    .map((segment) => (isIdLike(segment) ? ':id' : segment))
    .join('/');
  return `${method.toUpperCase()} ${host.toLowerCase()}${template}`;
}

function isIdLike(segment: string): boolean {
  return (
    /^\d+$/.test(segment) ||
    /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(segment) ||
    /^[0-9a-f]{8,}$/i.test(segment) ||
    // Long tokens mixing letters and digits (slugs with ids, opaque keys), and what the scrubber left.
    (segment.length >= 16 && /\d/.test(segment)) ||
    segment.startsWith('[')
  );
}

function statusClass(code: number | undefined): string {
  return code !== undefined && code >= 200 && code < 600 ? `${Math.floor(code / 100)}xx` : 'error';
}

function attributeValue(attributes: readonly KeyValue[], key: string): AnyValue | undefined {
  for (const kv of attributes) if (kv.key === key) return kv.value;
  return undefined;
}

function stringAttr(attributes: readonly KeyValue[], key: string): string | undefined {
  return attributeValue(attributes, key)?.stringValue;
}

function numberAttr(attributes: readonly KeyValue[], key: string): number | undefined {
  const value = attributeValue(attributes, key);
  if (value?.doubleValue !== undefined) return value.doubleValue;
  if (value?.intValue !== undefined) return Number(value.intValue);
  return undefined;
}
