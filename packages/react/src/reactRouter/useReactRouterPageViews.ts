/**
 * React Router route changes as page views named by their route template (`'/docs/:id'`). For data routers
 * (`createBrowserRouter`), call it in the root route's component with the router's routes; `<Routes>` users
 * take `<RumkitRoutes>` instead.
 *
 *     const router = createBrowserRouter(routes);
 *     function Root() { useReactRouterPageViews(routes); return <Outlet />; }
 */
import { type Location, matchRoutes, parsePath, type RouteObject, useLocation } from 'react-router';
import { useRouteChange } from '../useRouteChange.ts';
import { routeTemplate } from './routeTemplate.ts';

export function useReactRouterPageViews(routes: RouteObject[], location?: Partial<Location> | string): void {
  const current = useLocation();
  // A location given as a string can carry a query and a hash, which name no route.
  const given = typeof location === 'string' ? parsePath(location) : location;
  const pathname = given?.pathname ?? current.pathname;
  useRouteChange(pathname, routeTemplate(matchRoutes(routes, pathname), pathname));
}
