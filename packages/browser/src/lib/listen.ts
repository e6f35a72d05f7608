/**
 * Listens on `window` for each of `types`; the returned function stops listening, so every module can hand
 * `shutdown()` one function.
 *
 *     const stop = listen(['pagehide', 'visibilitychange'], onHide);
 */
export function listen(types: string[], handler: (event: Event) => void): () => void {
  for (const type of types) addEventListener(type, handler);
  return () => {
    for (const type of types) removeEventListener(type, handler);
  };
}
