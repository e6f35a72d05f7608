/**
 * A `SafeStorage` in memory for tests, which refuses writes like a full `localStorage` once keys and values
 * would exceed `quota` characters.
 *
 *     const storage = memoryStorage({ quota: 0 });
 */
import type { SafeStorage } from '../../src/lib/storage.ts';

export function memoryStorage(options: { quota?: number } = {}): SafeStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  const chars = () => [...data].reduce((sum, [key, value]) => sum + key.length + value.length, 0);
  return {
    data,
    get: (key) => data.get(key) ?? null,
    set: (key, value) =>
      chars() - (data.has(key) ? key.length + (data.get(key) as string).length : 0) + key.length + value.length <=
        (options.quota ?? Number.POSITIVE_INFINITY) && !!data.set(key, value),
    remove: (key) => void data.delete(key),
    keys: () => [...data.keys()],
  };
}
