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
import { useMemo } from 'react';
import { createRoutesFromChildren, Routes, type RoutesProps } from 'react-router';
import { useReactRouterPageViews } from './useReactRouterPageViews.ts';

export function RumkitRoutes(props: RoutesProps) {
  const routes = useMemo(() => createRoutesFromChildren(props.children), [props.children]);
  useReactRouterPageViews(routes, props.location);
  return <Routes {...props} />;
}
