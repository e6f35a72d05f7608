/**
 * The parts of one accepted request, grouped into as few Queue `sendBatch` calls as Cloudflare's per-call
 * limits allow (256 KB and 100 messages). A call is all or nothing, so the usual request — one or two parts —
 * is queued whole or not at all, and the sender's retry of a refused request duplicates nothing.
 *
 *     for (const group of sendBatches(payloads)) await queue.sendBatch(group.map((body) => ({ body })));
 */
import type { UpstreamPayload } from '../../pipeline/forward.ts';

const MAX_CALL_BYTES = 250 * 1024;
const MAX_CALL_MESSAGES = 100;
/** What a message holds besides its body once serialized: tenant, content type, span count. */
const ENVELOPE_BYTES = 1024;

export function sendBatches(payloads: readonly UpstreamPayload[]): UpstreamPayload[][] {
  const groups: UpstreamPayload[][] = [];
  let bytes = 0;
  for (const payload of payloads) {
    const size = payload.body.byteLength + ENVELOPE_BYTES;
    const last = groups.at(-1);
    if (last && bytes + size <= MAX_CALL_BYTES && last.length < MAX_CALL_MESSAGES) {
      last.push(payload);
      bytes += size;
    } else {
      groups.push([payload]);
      bytes = size;
    }
  }
  return groups;
}
