/**
 * The second test page (`/hash.html`): a data router on the URL's hash (`createHashRouter`), whose route changes
 * leave `location.pathname` as it is, so only `useReactRouterPageViews` in the root route can start page views.
 */
import { RumkitProvider } from '@rumkit/react';
import { useReactRouterPageViews } from '@rumkit/react/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createHashRouter, Link, Outlet, type RouteObject, RouterProvider } from 'react-router';
import { AgentProbe, agentConfig, Screen, TracedWork } from './testKit.tsx';

const routes: RouteObject[] = [
  {
    path: '/',
    element: <Root />,
    children: [
      { index: true, element: <Screen title="Hash home" /> },
      { path: 'settings/:tab', element: <Screen title="Settings" /> },
    ],
  },
];

function Root() {
  useReactRouterPageViews(routes);
  return (
    <>
      <AgentProbe />
      <nav>
        <Link to="/settings/profile">Settings</Link>
      </nav>
      <Outlet />
      <TracedWork />
    </>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <RumkitProvider config={agentConfig}>
      <RouterProvider router={createHashRouter(routes)} />
    </RumkitProvider>
  </StrictMode>,
);
