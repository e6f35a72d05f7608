'use client';
/**
 * `@rumkit/react/react-router`: React Router 7 and 8 navigations as rumkit page views named by route template.
 *
 *     import { RumkitRoutes } from '@rumkit/react/react-router';
 */
export { RumkitRoutes } from './RumkitRoutes.tsx';
export { useReactRouterPageViews } from './useReactRouterPageViews.ts';
