/**
 * A `SafeStorage` in memory for tests, which can be made to refuse writes like a full `localStorage`.
 *
 *     const storage = memoryStorage({ full: true });
 */
import type { SafeStorage } from '../../src/lib/storage.ts';

export function memoryStorage(options: { full?: boolean } = {}): SafeStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get: (key) => data.get(key) ?? null,
    set: (key, value) => !options.full && !!data.set(key, value),
    remove: (key) => void data.delete(key),
  };
}
