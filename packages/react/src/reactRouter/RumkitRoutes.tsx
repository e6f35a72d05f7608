/**
 * `<Routes>` that reports each route change as a page view named by the matched route's template.
 *
 *     <BrowserRouter>
 *       <RumkitRoutes>
 *         <Route path="/" element={<Home />} />
 *         <Route path="/docs/:id" element={<Document />} />   // page views named '/docs/:id'
 *       </RumkitRoutes>
 *     </BrowserRouter>
 *
 * Inside a route's element (descendant routes, under a `/guide/*` route) it is a plain `<Routes>`: the
 * outermost one reports the change, so a navigation is one page view, named by its template (`/guide/*`). The
 * outermost routes must be this one: below a plain `<Routes>`, whose match it cannot see, it matches from the root.
 */
import { createContext, useContext } from 'react';
import { createRoutesFromChildren, Routes, type RoutesProps, useRoutes } from 'react-router';
import { useReactRouterPageViews } from './useReactRouterPageViews.ts';

const underReportingRoutes = createContext(false);

export function RumkitRoutes(props: RoutesProps) {
  return useContext(underReportingRoutes) ? <Routes {...props} /> : <ReportingRoutes {...props} />;
}

/** What `<Routes>` does (React Router 7 and 8), with the routes it builds also naming the page view. */
function ReportingRoutes({ children, location }: RoutesProps) {
  const routes = createRoutesFromChildren(children);
  useReactRouterPageViews(routes, location);
  return <underReportingRoutes.Provider value={true}>{useRoutes(routes, location)}</underReportingRoutes.Provider>;
}
