import { describe, expect, it } from 'vitest';
import { routeTemplate } from './routeTemplate.ts';

const match = (...paths: (string | undefined)[]) => paths.map((path) => ({ route: { path } }));

describe('routeTemplate', () => {
  it('joins nested relative paths, parent first', () => {
    expect(routeTemplate(match('/', 'docs', ':id'), '/docs/7')).toBe('/docs/:id');
    expect(routeTemplate(match('/docs', ':id/pages/:page'), '/docs/7/pages/2')).toBe('/docs/:id/pages/:page');
  });

  it('skips index and pathless layout routes, and lets an absolute child path stand alone', () => {
    expect(routeTemplate(match(undefined, '/settings', undefined), '/settings')).toBe('/settings');
    expect(routeTemplate(match('/app', '/app/users/:id'), '/app/users/3')).toBe('/app/users/:id');
    expect(routeTemplate(match(undefined), '/')).toBe('/');
  });

  it('falls back to the pathname without a match', () => {
    expect(routeTemplate(null, '/nowhere')).toBe('/nowhere');
    expect(routeTemplate([], '/nowhere')).toBe('/nowhere');
  });
});
