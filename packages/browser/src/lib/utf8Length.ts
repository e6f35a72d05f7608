/** Bytes of `text` in UTF-8: what request size limits count, where `text.length` counts UTF-16 units. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
