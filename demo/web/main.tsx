/**
 * The React demo page: `@rumkit/react`'s provider starts the agent, an error boundary records what breaks, and
 * the upload runs in a span of its own (`useSpan`), under which the browser's fetch span and then the API's
 * spans hang.
 */
import { RumkitErrorBoundary, RumkitProvider } from '@rumkit/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { readDemoConfig } from './demoConfig.ts';
import { UploadPage } from './UploadPage.tsx';

const config = readDemoConfig();
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <RumkitProvider
      config={{
        endpoint: config.endpoint,
        apiKey: config.apiKey,
        serviceName: 'rumkit-demo-web',
        propagateTraceHeaderCorsUrls: [new RegExp(`^${escapeRegExp(config.apiUrl)}/`)],
      }}
    >
      <RumkitErrorBoundary fallback={<p role="alert">The page failed; the error was recorded in its trace.</p>}>
        <UploadPage config={config} />
      </RumkitErrorBoundary>
    </RumkitProvider>
  </StrictMode>,
);
