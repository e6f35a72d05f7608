import { describe, expect, it } from 'vitest';
import { toTraceQL } from './tempoSource.ts';

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
