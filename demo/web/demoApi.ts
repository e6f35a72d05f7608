/**
 * The demo page's calls to its backends, shared by the React page and the plain-HTML page: both are traced by
 * the agent's fetch instrumentation, whichever way the agent was loaded.
 *
 *     const result = await uploadDocument(config.apiUrl, file); // result.traceId: the API's trace
 */

export interface UploadResult {
  id: string;
  name: string;
  pages: number;
  language: string;
  /** The trace the API's server span belongs to, which the browser's fetch span began. */
  traceId: string;
}

export async function uploadDocument(apiUrl: string, file: File): Promise<UploadResult> {
  const body = new FormData();
  body.append('file', file);
  const response = await fetch(`${apiUrl}/api/documents`, { method: 'POST', body });
  const result = await response.json();
  if (!response.ok) throw new Error(result.error ?? response.statusText);
  return result as UploadResult;
}

/** The third-party widget's call: an origin the agent must not send trace context to. */
export async function checkServiceStatus(thirdPartyUrl: string): Promise<string> {
  const response = await fetch(`${thirdPartyUrl}/api/status`);
  return response.ok ? 'operational' : `unavailable (${response.status})`;
}
