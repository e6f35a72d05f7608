import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTempoSource, toTraceQL } from './tempoSource.ts';

describe('toTraceQL', () => {
  it('turns a query into one TraceQL spanset', () => {
    expect(toTraceQL({})).toBe('{}');
    expect(toTraceQL({ serviceName: 'rumkit-demo-web', name: 'documentLoad' })).toBe(
      '{ resource.service.name = "rumkit-demo-web" && name = "documentLoad" }',
    );
    expect(toTraceQL({ kind: 'server', attributes: { 'rumkit.page_view.id': 'ab"c' } })).toBe(
      '{ kind = server && span.rumkit.page_view.id = "ab\\"c" }',
    );
  });

  it('matches the end of a value with an escaped, whole-value regex', () => {
    expect(toTraceQL({ attributes: { 'url.full': { endsWith: '/api/status?x=1' } } })).toBe(
      '{ span.url.full =~ ".*/api/status\\\\?x=1" }',
    );
  });
});

describe('searching Tempo', () => {
  it('asks for the most recent traces, in the tenant, and pads the ids Tempo shortens', async () => {
    const asked: { url: string; tenant: string | undefined }[] = [];
    const tempo = createServer((req, res) => {
      asked.push({ url: req.url ?? '', tenant: req.headers['x-scope-orgid'] as string | undefined });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ traces: [{ traceID: 'abc123', rootServiceName: 'web', rootTraceName: 'GET /' }] }));
    });
    await new Promise<void>((resolve) => tempo.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tempo.address() as AddressInfo;
      const source = createTempoSource({ url: `http://127.0.0.1:${port}/`, tenant: 'demo' });
      const hits = await source.search({ serviceName: 'web', limit: 5 });
      expect(hits).toEqual([expect.objectContaining({ traceId: `${'0'.repeat(26)}abc123`, rootName: 'GET /' })]);
      const url = new URL(asked[0]?.url ?? '', 'http://tempo');
      expect(url.pathname).toBe('/api/search');
      expect(url.searchParams.get('q')).toBe('{ resource.service.name = "web" } with (most_recent=true)');
      expect(url.searchParams.get('limit')).toBe('5');
      expect(asked[0]?.tenant).toBe('demo');
    } finally {
      await new Promise<void>((resolve) => tempo.close(() => resolve()));
    }
  });
});
