/**
 * The service-graph edges as a list of "client → server" boxes with their request and failure counts.
 *
 *     renderServiceGraph(serviceGraphEdges(spans));
 */
import { type Html, html } from './html.ts';
import { serviceHue } from './renderLayout.ts';
import type { ServiceGraphEdge } from './traceSource.ts';

export function renderServiceGraph(edges: ServiceGraphEdge[]): Html {
  if (!edges.length)
    return html`<p class="muted">No edges yet: a CLIENT span with a SERVER span under it draws one.</p>`;
  return html`<ul class="edges">${edges.map(
    (edge) =>
      html`<li class="edge" data-client="${edge.client}" data-server="${edge.server}">${service(edge.client)} → ${service(edge.server)}
        <span class="muted">${edge.requests} ${edge.requests === 1 ? 'request' : 'requests'}${edge.failed ? `, ${edge.failed} failed` : ''}</span></li>`,
  )}</ul>`;
}

export function service(name: string | undefined): Html {
  return html`<span class="service" style="background: hsl(${serviceHue(name)} 55% 42%)">${name ?? 'unknown'}</span>`;
}
