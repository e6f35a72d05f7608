/**
 * An upper bound of `text`'s size in UTF-8, which is what request size limits count (`text.length` counts
 * UTF-16 units). Exact for ASCII, which OTLP/JSON mostly is; every other unit is counted as 3 bytes, the
 * most one can take. Cheaper than encoding the text just to measure it.
 */
export function utf8Length(text: string): number {
  return text.length + 2 * (text.match(/[^\0-\x7f]/g)?.length ?? 0);
}
