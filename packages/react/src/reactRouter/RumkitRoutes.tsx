/**
 * `<Routes>` that reports each route change as a page view named by the matched route's template.
 *
 *     <BrowserRouter>
 *       <RumkitRoutes>
 *         <Route path="/" element={<Home />} />
 *         <Route path="/docs/:id" element={<Document />} />   // page views named '/docs/:id'
 *       </RumkitRoutes>
 *     </BrowserRouter>
 */
import { createRoutesFromChildren, type RoutesProps, useRoutes } from 'react-router';
import { useReactRouterPageViews } from './useReactRouterPageViews.ts';

/** What `<Routes>` does (React Router 7 and 8), with the routes it builds also naming the page view. */
export function RumkitRoutes({ children, location }: RoutesProps) {
  const routes = createRoutesFromChildren(children);
  useReactRouterPageViews(routes, location);
  return useRoutes(routes, location);
}
