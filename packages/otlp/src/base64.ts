/**
 * OTLP/JSON carries `bytesValue` as base64; these convert it to and from the bytes (atob/btoa work on
 * binary strings, which every runtime the worker and the agent run on has).
 *
 *     fromBase64(toBase64(bytes)); // the same bytes
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Throws (a DOMException) when `base64` is not base64. */
export function fromBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
