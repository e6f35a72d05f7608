/**
 * The route template of a React Router match (`'/docs/:id'`), joined from the `path` of each matched route,
 * parent first; index and pathless layout routes add nothing. Without a match, the pathname itself.
 *
 *     routeTemplate(matchRoutes(routes, '/docs/7'), '/docs/7'); // '/docs/:id'
 */
interface MatchedRoute {
  route: { path?: string };
}

export function routeTemplate(matches: readonly MatchedRoute[] | null, pathname: string): string {
  if (!matches?.length) return pathname;
  let template = '';
  for (const { route } of matches) {
    if (!route.path) continue;
    // A child's path is relative to its parent's unless it is absolute.
    template = route.path.startsWith('/') ? route.path : `${template}/${route.path}`;
  }
  return template.replace(/\/{2,}/g, '/') || '/';
}
