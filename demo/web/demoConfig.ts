/** The demo's runtime settings, written into the page by the server that serves it (see ../serve.ts). */
export interface DemoConfig {
  /** The rumkit edge worker. */
  endpoint: string;
  apiKey: string;
  /** The demo API, on another origin than the page. */
  apiUrl: string;
  /** An origin the agent must not send trace context to. */
  thirdPartyUrl: string;
  /** Where a trace can be opened; `{traceId}` is replaced. */
  traceUrlTemplate: string;
}

export function readDemoConfig(): DemoConfig {
  const element = document.getElementById('rumkit-config');
  if (!element?.textContent) throw new Error('the page was served without its rumkit-config block');
  return JSON.parse(element.textContent) as DemoConfig;
}
