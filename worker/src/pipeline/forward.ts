/** Sends an accepted batch to the configured collector as OTLP/HTTP JSON. */
import type { ExportTraceServiceRequest } from '@rumkit/otlp';

export interface ForwardResult {
  ok: boolean;
  status: number;
}

export async function forward(upstreamUrl: string, batch: ExportTraceServiceRequest): Promise<ForwardResult> {
  const response = await fetch(`${upstreamUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(batch),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return { ok: response.ok, status: response.status };
}
