/**
 * The service-graph edges in a set of spans, counted the way Tempo's metrics-generator counts them: each
 * CLIENT span with a SERVER span directly under it is one request from the client's service to the server's;
 * it failed when either span has status ERROR. Both sources use it, so the view draws the same edges whatever
 * it reads from.
 *
 *     serviceGraphEdges(spans); // [{ client: 'rumkit-demo-web', server: 'rumkit-demo-api', requests: 1, failed: 0 }]
 */
import type { ServiceGraphEdge, TraceSpan } from './traceSource.ts';

export function serviceGraphEdges(spans: Iterable<TraceSpan>): ServiceGraphEdge[] {
  const clients = new Map<string, TraceSpan>();
  const servers: TraceSpan[] = [];
  for (const span of spans) {
    if (span.kind === 'client') clients.set(`${span.traceId}/${span.spanId}`, span);
    else if (span.kind === 'server' && span.parentSpanId) servers.push(span);
  }
  const edges = new Map<string, ServiceGraphEdge>();
  for (const server of servers) {
    const client = clients.get(`${server.traceId}/${server.parentSpanId}`);
    if (!client) continue;
    const from = client.serviceName ?? 'unknown';
    const to = server.serviceName ?? 'unknown';
    const edge = edges.get(`${from}\n${to}`) ?? { client: from, server: to, requests: 0, failed: 0 };
    edge.requests++;
    if (client.status.code === 'error' || server.status.code === 'error') edge.failed++;
    edges.set(`${from}\n${to}`, edge);
  }
  return [...edges.values()].sort((a, b) => b.requests - a.requests);
}
