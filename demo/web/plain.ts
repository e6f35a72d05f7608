/**
 * The plain-HTML demo page's form. The agent itself comes from the script tag in plain.html (`rumkit.iife.js`
 * with `data-*` attributes), so this file only wires the form and the third-party button.
 */
import { checkServiceStatus, uploadDocument } from './demoApi.ts';
import { readDemoConfig } from './demoConfig.ts';

const config = readDemoConfig();
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

byId<HTMLFormElement>('upload').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = byId('error');
  error.hidden = true;
  const file = byId<HTMLInputElement>('file').files?.[0];
  if (!file) return;
  try {
    const result = await uploadDocument(config.apiUrl, file);
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
  byId('status-result').textContent = await checkServiceStatus(config.thirdPartyUrl);
});
