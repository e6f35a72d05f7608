/**
 * The part of the agent's `localStorage` keys that names its edge and key (`rumkit.q.<scope>.…`): two apps on one
 * origin, each with its own key or edge, must neither take each other's stored batches (and send them under their
 * own key, to the wrong tenant) nor follow each other's edge. A 32-bit hash in base 36, not the key itself: short,
 * and safe in a key name whatever the endpoint holds.
 *
 *     storage.get(`rumkit.rate.${storageScope(settings.endpoint, settings.apiKey)}`);
 */
export function storageScope(endpoint: string, apiKey: string): string {
  let hash = 0;
  // Below 2^53 before the `| 0`: exact, as Math.imul would be.
  for (const char of `${endpoint} ${apiKey}`) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return (hash >>> 0).toString(36);
}
