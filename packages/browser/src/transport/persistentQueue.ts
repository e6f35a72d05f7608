/**
 * Request bodies that could not be sent before the page went away, kept in `localStorage` and handed to the
 * next page of the origin exactly once (taking them removes them). Bounded: the oldest bodies give way.
 *
 *     const queue = createPersistentQueue(safeStorage());
 *     queue.save([body]);          // at pagehide, when the edge could not take it
 *     for (const body of queue.take()) send(body); // at the next start-up
 */
import type { SafeStorage } from '../lib/storage.ts';

export const QUEUE_KEY = 'rumkit.queue';
/** localStorage is about 5 MB per origin and belongs to the app; the agent keeps to a small share. */
export const MAX_QUEUE_CHARS = 256_000;

export interface PersistentQueue {
  /** Appends bodies, dropping the oldest beyond the bound. Returns how many of the given bodies were kept. */
  save(bodies: readonly string[]): number;
  /** Every stored body, removed from storage. */
  take(): string[];
}

export function createPersistentQueue(storage: SafeStorage, maxChars = MAX_QUEUE_CHARS): PersistentQueue {
  const read = (): string[] => {
    try {
      const stored = JSON.parse(storage.get(QUEUE_KEY) ?? '[]') as unknown;
      return Array.isArray(stored) ? stored.filter((b): b is string => typeof b === 'string') : [];
    } catch {
      return [];
    }
  };
  return {
    save(bodies) {
      if (!bodies.length) return 0;
      const all = [...read(), ...bodies];
      // Counted as stored: each body a JSON string, its quotes escaped, and a comma.
      const stored = (body: string) => JSON.stringify(body).length + 1;
      let chars = all.reduce((sum, b) => sum + stored(b), 1);
      while (all.length && chars > maxChars) chars -= stored(all.shift() as string);
      // A full storage refuses the write; retry with fewer bodies rather than lose all of them.
      while (all.length && !storage.set(QUEUE_KEY, JSON.stringify(all))) all.shift();
      return Math.min(all.length, bodies.length);
    },
    take() {
      const bodies = read();
      storage.remove(QUEUE_KEY);
      return bodies;
    },
  };
}
