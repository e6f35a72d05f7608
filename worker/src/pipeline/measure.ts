/**
 * Measure: derives the RUM metrics from every accepted span, the ones sampling leaves out too, so dashboards
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

/** The attributes of one span that the metrics read: the first value of each key, as a lookup would find. */
interface SpanFacts {
  route?: AnyValue;
  vitalName?: AnyValue;
  vitalValue?: AnyValue;
  vitalRating?: AnyValue;
  legacyVitalName?: AnyValue;
  legacyVitalValue?: AnyValue;
  legacyVitalRating?: AnyValue;
  method?: AnyValue;
  url?: AnyValue;
  serverAddress?: AnyValue;
  statusCode?: AnyValue;
}

/**
 * One pass over a span's attributes for every key the metrics read, instead of one search per key. Where a
 * key repeats, the first occurrence counts.
 */
function readSpanFacts(attributes: readonly KeyValue[], facts: SpanFacts): void {
  for (const { key, value } of attributes) {
    switch (key) {
      case 'rumkit.page.route':
        facts.route ??= value;
        break;
      case 'browser.web_vital.name':
        facts.vitalName ??= value;
        break;
      case 'browser.web_vital.value':
        facts.vitalValue ??= value;
        break;
      case 'browser.web_vital.rating':
        facts.vitalRating ??= value;
        break;
      case 'web_vital.name':
        facts.legacyVitalName ??= value;
        break;
      case 'web_vital.value':
        facts.legacyVitalValue ??= value;
        break;
      case 'web_vital.rating':
        facts.legacyVitalRating ??= value;
        break;
      case 'http.request.method':
        facts.method ??= value;
        break;
      case 'url.full':
        facts.url ??= value;
        break;
      case 'server.address':
        facts.serverAddress ??= value;
        break;
      case 'http.response.status_code':
        facts.statusCode ??= value;
        break;
    }
  }
}

export function measure(request: ExportTraceServiceRequest, tenant: string, metrics: EdgeMetrics): void {
  for (const rs of request.resourceSpans) {
    const resource = rs.resource?.attributes ?? [];
    const service = stringAttr(resource, 'service.name') ?? 'unknown_service';
    const resourceRoute = stringAttr(resource, 'rumkit.page.route');
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const facts: SpanFacts = {};
        if (span.attributes) readSpanFacts(span.attributes, facts);
        // A route the app never named is the raw path: ids collapsed, as in endpoints, so that each document or
        // user does not become a series of its own.
        const named = facts.route?.stringValue ?? resourceRoute;
        const route = named === undefined ? 'unknown' : named.startsWith('/') ? pathTemplate(named) : named;
        // The agent's names, or the older `web_vital.*` of other agents when the span has no agent name.
        const legacy = facts.vitalName?.stringValue === undefined;
        const vitalName = (legacy ? facts.legacyVitalName : facts.vitalName)?.stringValue;
        if (vitalName !== undefined) {
          // The sender names the vital: `toString` or `__proto__` must find nothing, not Object's own members.
          const histogram = Object.hasOwn(metrics.webVitals, vitalName)
            ? metrics.webVitals[vitalName as keyof EdgeMetrics['webVitals']]
            : undefined;
          const value = numberOf(legacy ? facts.legacyVitalValue : facts.vitalValue);
          // Infinity (a protobuf double) would make the cumulative sum Infinity for good.
          if (histogram && value !== undefined && value >= 0 && Number.isFinite(value)) {
            histogram.observe({ tenant, service, route }, vitalName === 'CLS' ? value : value / 1000);
            const rating = (legacy ? facts.legacyVitalRating : facts.vitalRating)?.stringValue;
            if (rating)
              metrics.webVitalRatings.add({ tenant, service, route, metric: vitalName.toLowerCase(), rating });
          }
        }
        const method = facts.method?.stringValue;
        if (span.kind === SpanKind.CLIENT && method !== undefined) {
          metrics.fetchDuration.observe(
            {
              tenant,
              service,
              endpoint: endpointOf(method, facts.url?.stringValue, facts.serverAddress?.stringValue),
              status_class: statusClass(numberOf(facts.statusCode)),
            },
            Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e9,
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
  // By hand rather than with a regular expression and split/map/join: this runs for every fetch span.
  const authority = url ? authorityStart(url) : -1;
  let host = serverAddress;
  let path = '/';
  if (url && authority >= 0) {
    const hostEnd = partEnd(url, authority, true);
    const pathEnd = partEnd(url, hostEnd, false);
    if (host === undefined) {
      host = url.slice(authority, hostEnd);
      if (host.includes('@')) host = host.replace(/^.*@/, '');
    }
    if (pathEnd > hostEnd) path = url.slice(hostEnd, pathEnd);
  }
  return `${method.toUpperCase()} ${(host ?? 'unknown').toLowerCase()}${pathTemplate(path)}`;
}

/** Where the host starts in `scheme://host/path`, or -1 when the URL has no such scheme. */
function authorityStart(url: string): number {
  if (!isAsciiLetter(url.charCodeAt(0))) return -1;
  for (let i = 1; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 58 /* : */) return url.startsWith('//', i + 1) ? i + 3 : -1;
    // The scheme's other characters: letters, digits, `+`, `.`, `-`.
    if (!isAsciiLetter(c) && !(c >= 48 && c <= 57) && c !== 43 && c !== 46 && c !== 45) return -1;
  }
  return -1;
}

/** Where a URL part starting at `from` ends: at `?`, `#`, or for the host also `/`; else the URL's end. */
function partEnd(url: string, from: number, isHost: boolean): number {
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 || c === 35 || (isHost && c === 47)) return i;
  }
  return url.length;
}

function isAsciiLetter(code: number): boolean {
  const lower = code | 0x20;
  return lower >= 97 && lower <= 122;
}

/** The first eight `/`-separated segments of a path, ids replaced by `:id`; the path itself when none is. */
function pathTemplate(path: string): string {
  let template: string | undefined;
  let start = 0;
  for (let n = 0; n < 8; n++) {
    let end = path.indexOf('/', start);
    if (end === -1) end = path.length;
    const idLike = isIdLike(path, start, end);
    if (template !== undefined) template += '/';
    else if (idLike) template = path.slice(0, start);
    if (template !== undefined) template += idLike ? ':id' : path.slice(start, end);
    if (end === path.length) return template ?? path;
    start = end + 1;
  }
  return template ?? path.slice(0, start - 1);
}

/**
 * Whether `text.slice(start, end)`, a path segment, is an id (digits, a UUID, a long hex string, a long
 * token with a digit) or what the scrubber left (`[email]`), decided in one pass over it.
 */
export function isIdLike(text: string, start = 0, end = text.length): boolean {
  const length = end - start;
  if (length === 0) return false;
  if (text.charCodeAt(start) === 91 /* [ */) return true;
  let digits = 0;
  let hexLetters = 0;
  let dashes = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
    else if ((code >= 97 && code <= 102) || (code >= 65 && code <= 70)) hexLetters++;
    else if (code === 45) dashes++;
  }
  if (digits === length) return true;
  if (digits + hexLetters === length && length >= 8) return true;
  // Long tokens mixing letters and digits (slugs with ids, opaque keys).
  if (length >= 16 && digits > 0) return true;
  // A UUID without a digit is the one id left, and rare: only then is its shape checked in full.
  return digits + hexLetters === 32 && length === 32 + dashes && UUID.test(text.slice(start, end));
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

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

function numberOf(value: AnyValue | undefined): number | undefined {
  if (value?.doubleValue !== undefined) return Number(value.doubleValue);
  if (value?.intValue !== undefined) return Number(value.intValue);
  return undefined;
}
