import { init } from '@rumkit/browser';
import { readDemoConfig } from './demoConfig.ts';

const config = readDemoConfig();
const rum = init({
  endpoint: config.endpoint,
  apiKey: config.apiKey,
  serviceName: 'rumkit-demo-web',
  propagateTraceHeaderCorsUrls: [new RegExp(`^${config.apiUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`)],
});
Object.assign(window, { rumkit: rum });

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

byId<HTMLFormElement>('upload').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('error');
  error.hidden = true;
  const file = byId<HTMLInputElement>('file').files?.[0];
  if (!file) return;
  const body = new FormData();
  body.append('file', file);
  try {
    const response = await fetch(`${config.apiUrl}/api/documents`, { method: 'POST', body });
    const result = await response.json();
    if (!response.ok) throw new Error(result.error ?? response.statusText);
    byId('result-name').textContent = result.name;
    byId('result-pages').textContent = String(result.pages);
    byId('result-language').textContent = result.language;
    const link = byId<HTMLAnchorElement>('result-trace');
    link.textContent = result.traceId;
    link.href = config.traceUrlTemplate.replace('{traceId}', result.traceId);
    byId('result').hidden = false;
  } catch (e) {
    error.textContent = `Upload failed: ${(e as Error).message}`;
    error.hidden = false;
  }
});

byId('status').addEventListener('click', async () => {
  const response = await fetch(`${config.thirdPartyUrl}/api/status`);
  byId('status-result').textContent = response.ok ? 'operational' : `unavailable (${response.status})`;
});
