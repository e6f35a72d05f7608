'use client';
/**
 * `@rumkit/react`: the rumkit browser agent in a React app.
 *
 *     import { RumkitErrorBoundary, RumkitProvider, useSpan } from '@rumkit/react';
 *
 *     createRoot(root).render(
 *       <RumkitProvider config={{ endpoint: 'https://rum.example.com', apiKey: 'pk_…', serviceName: 'shop-web' }}>
 *         <RumkitErrorBoundary fallback={<p>Something went wrong.</p>}>
 *           <App />
 *         </RumkitErrorBoundary>
 *       </RumkitProvider>,
 *     );
 *
 * React Router: `@rumkit/react/react-router`. Safe to import and render on the server, where it does nothing.
 */
export type { RumkitAgent, RumkitConfig } from '@rumkit/browser';
export { type FallbackProps, RumkitErrorBoundary, type RumkitErrorBoundaryProps } from './RumkitErrorBoundary.tsx';
export { RumkitProvider, type RumkitProviderProps } from './RumkitProvider.tsx';
export { useRouteChange } from './useRouteChange.ts';
export { useRumkit } from './useRumkit.ts';
export { type SpanRunner, useSpan } from './useSpan.ts';
export { withSpan } from './withSpan.ts';
