/**
 * The page for one trace: the waterfall of its page view — each trace of it as a group of rows (parents above
 * children, bars on the trace's own time scale), the chosen trace marked, web vitals in one group with their
 * values and ratings — and the service-graph edges among those spans.
 *
 *     renderTracePage({ traceId, traces: await loadPageView(source, traceId), sourceDescription });
 */
import { type Html, html } from './html.ts';
import { nanosToMs } from './nanosToMs.ts';
import { renderLayout, serviceHue } from './renderLayout.ts';
import { renderServiceGraph, service } from './renderServiceGraph.ts';
import { serviceGraphEdges } from './serviceGraphEdges.ts';
import type { TraceSpan } from './traceSource.ts';
import { waterfall } from './waterfall.ts';

/** Reload while the newest span is this recent: the browser's web vitals and beacons may still be on the way. */
const FRESH_MS = 20_000;

export type TracePageOptions = { traceId: string; traces: TraceSpan[][]; sourceDescription: string };

export function renderTracePage({ traceId, traces, sourceDescription }: TracePageOptions): string {
  const all = traces.flat();
  const pageStartMs = Math.min(...all.map((span) => nanosToMs(span.startTimeUnixNano)));
  const newestMs = Math.max(...all.map((span) => nanosToMs(span.endTimeUnixNano)));
  const isVital = (spans: TraceSpan[]) => spans.every((span) => span.name.startsWith('web_vital.'));
  const groups = [...traces].sort((a, b) => traceStartMs(a) - traceStartMs(b));
  const vitals = groups.filter(isVital).flat();
  const pageView = all.find((span) => span.attributes['rumkit.page_view.id']);
  const body = html`
<h1>Trace <code>${traceId}</code></h1>
<p class="muted">${
    pageView
      ? html`Page view <code>${pageView.attributes['rumkit.page_view.id']}</code> of ${service(pageView.serviceName)}
        on <code>${pageView.attributes['rumkit.page.route']}</code>: ${traces.length} ${traces.length === 1 ? 'trace' : 'traces'}, ${all.length} spans.`
      : html`${all.length} spans.`
  }</p>
<h2>Service graph</h2>
${renderServiceGraph(serviceGraphEdges(all))}
<h2>Waterfall</h2>
<table class="waterfall">
<thead><tr><th>span</th><th>service</th><th class="duration">duration</th><th>timeline</th></tr></thead>
${groups
  .filter((spans) => !isVital(spans))
  .map((spans) => renderTraceGroup(spans, spans[0]?.traceId === traceId, pageStartMs))}
${vitals.length ? renderVitals(vitals, pageStartMs) : ''}
</table>`;
  return renderLayout({
    title: `Trace ${traceId}`,
    sourceDescription,
    body,
    refreshSeconds: Date.now() - newestMs < FRESH_MS ? 3 : undefined,
  });
}

function renderTraceGroup(spans: TraceSpan[], selected: boolean, pageStartMs: number): Html {
  const { rows, startMs, totalMs } = waterfall(spans);
  const root = rows[0]?.span;
  return html`<tbody data-trace-id="${root?.traceId}" class="${selected ? 'selected' : ''}">
<tr class="group${selected ? ' selected' : ''}"><th colspan="4">${selected ? 'This trace' : 'Same page view'}: ${root?.name}
  <span class="muted">+${seconds(startMs - pageStartMs)} into the page view ·
  ${selected ? html`<code>${root?.traceId}</code>` : html`<a href="/traces/${root?.traceId}"><code>${root?.traceId}</code></a>`}</span></th></tr>
${rows.map(
  ({ span, depth, offsetMs, durationMs }) => html`<tr class="span${span.status.code === 'error' ? ' error' : ''}"
  data-span-name="${span.name}" data-service="${span.serviceName}" data-kind="${span.kind}" data-span-id="${span.spanId}"
  title="${span.kind} span ${span.spanId}${span.parentSpanId ? ` under ${span.parentSpanId}` : ''}">
<td class="name" style="padding-left: ${0.5 + depth * 1.1}rem">${span.name}</td>
<td>${service(span.serviceName)}</td>
<td class="duration">${milliseconds(durationMs)}</td>
<td class="timeline"><div class="bar"><span style="left: ${percent(offsetMs, totalMs)}%; width: ${percent(durationMs, totalMs)}%; background: hsl(${serviceHue(span.serviceName)} 55% 52%)"></span></div></td>
</tr>`,
)}
</tbody>`;
}

function renderVitals(spans: TraceSpan[], pageStartMs: number): Html {
  return html`<tbody class="vitals">
<tr class="group"><th colspan="4">Web vitals</th></tr>
${spans.map((span) => {
  const value = Number(span.attributes['browser.web_vital.value']);
  const name = String(span.attributes['browser.web_vital.name'] ?? span.name);
  const rating = String(span.attributes['browser.web_vital.rating'] ?? '');
  return html`<tr class="span vital" data-span-name="${span.name}" data-service="${span.serviceName}" data-kind="${span.kind}">
<td class="name">${span.name}</td>
<td>${service(span.serviceName)}</td>
<td class="duration rating-${rating}">${name === 'CLS' ? value.toFixed(3) : milliseconds(value)}</td>
<td><span class="rating-${rating}">${rating}</span> <span class="muted">reported +${seconds(nanosToMs(span.startTimeUnixNano) - pageStartMs)} into the page view</span></td>
</tr>`;
})}
</tbody>`;
}

function traceStartMs(spans: TraceSpan[]): number {
  return Math.min(...spans.map((span) => nanosToMs(span.startTimeUnixNano)));
}

function percent(part: number, whole: number): string {
  return whole > 0 ? ((100 * part) / whole).toFixed(2) : '0';
}

function milliseconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
