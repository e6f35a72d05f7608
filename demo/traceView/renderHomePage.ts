/**
 * The view's start page: the service graph of the last minutes and the most recent traces, each linked to
 * its page.
 *
 *     renderHomePage({ traces: await source.search({}), edges, sourceDescription, windowMinutes: 15, refreshSeconds: 5 });
 */
import { html } from './html.ts';
import { renderLayout } from './renderLayout.ts';
import { renderServiceGraph, service } from './renderServiceGraph.ts';
import type { ServiceGraphEdge, TraceSummary } from './traceSource.ts';

export type HomePageOptions = {
  traces: TraceSummary[];
  edges: ServiceGraphEdge[];
  sourceDescription: string;
  windowMinutes: number;
  refreshSeconds: number;
};

export function renderHomePage({
  traces,
  edges,
  sourceDescription,
  windowMinutes,
  refreshSeconds,
}: HomePageOptions): string {
  const body = html`
<h1>Recent traces</h1>
<h2>Service graph <span class="muted">(last ${windowMinutes} minutes)</span></h2>
${renderServiceGraph(edges)}
<h2>Traces <span class="muted">(most recent first)</span></h2>
${
  traces.length
    ? html`<table><thead><tr><th>root span</th><th>service</th><th>started</th><th class="duration">duration</th><th>trace</th></tr></thead>
<tbody>${traces.map(
        (
          trace,
        ) => html`<tr><td>${trace.rootName ?? '(root not yet arrived)'}</td><td>${service(trace.rootServiceName)}</td>
<td>${trace.startUnixNano ? new Date(Number(BigInt(trace.startUnixNano) / 1_000_000n)).toLocaleTimeString('en-GB') : ''}</td>
<td class="duration">${trace.durationMs === undefined ? '' : `${trace.durationMs.toFixed(1)} ms`}</td>
<td><a href="/traces/${trace.traceId}"><code>${trace.traceId}</code></a></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No traces yet. Open the demo page and upload a document.</p>`
}`;
  return renderLayout({ title: 'Recent traces', sourceDescription, body, refreshSeconds });
}
