/**
 * Request bodies that could not be sent before the page went away, kept in `localStorage` and handed to the
 * next page of the origin exactly once (taking them removes them). Bounded: the oldest bodies give way. Each
 * queue is its edge's and key's (`scope`): another app of the origin, with its own, has a queue of its own.
 *
 * Each body has a key of its own: Chromium keeps a copy of `localStorage` in each tab and merges their writes
 * late, so tabs closed together that each rewrote one shared list kept only the last tab's.
 *
 *     const queue = createPersistentQueue(safeStorage(), settings.scope);
 *     const keys = queue.save([body]); // at pagehide, when the edge could not take it
 *     for (const body of queue.take()) send(body); // at the next start-up
 *     for (const body of queue.takeSaved()) beacon(body); // as this page is left: only what it saved itself
 */
import type { SafeStorage } from '../lib/storage.ts';

export const QUEUE_PREFIX = 'rumkit.q.';
/** localStorage is about 5 MB per origin and belongs to the app; the agent keeps to a small share. */
export const MAX_QUEUE_CHARS = 256_000;

export interface PersistentQueue {
  /** Stores bodies, dropping the oldest beyond the bound. Returns the keys of the given bodies it kept. */
  save(bodies: readonly string[]): string[];
  /** Every stored body, oldest first, removed from storage. */
  take(): string[];
  /** The bodies this queue saved that are still stored (no other tab took them), removed from storage. */
  takeSaved(): string[];
}

let saved = 0;

export function createPersistentQueue(
  storage: SafeStorage,
  scope: string,
  maxChars = MAX_QUEUE_CHARS,
): PersistentQueue {
  const prefix = `${QUEUE_PREFIX}${scope}.`;
  /** The stored keys, oldest first: after the prefix they begin with the time of the save (and a count within the tab). */
  const keys = () =>
    storage
      .keys()
      .filter((key) => key.startsWith(prefix))
      .sort();
  /**
   * The keys of what this queue saved, oldest first, as of its last save: a tab that stays offline for hours saves
   * a body every few seconds, and the keys of those the bound evicted must not pile up.
   */
  let savedKeys: string[] = [];
  const takeKeys = (keys: readonly string[]) =>
    keys.flatMap((key) => {
      const body = storage.get(key);
      storage.remove(key);
      return body === null ? [] : [body];
    });
  return {
    save(bodies) {
      if (!bodies.length) return [];
      /** Each stored key, oldest first, with the characters it and its body take. */
      const stored = keys().map((key): [string, number] => [key, key.length + (storage.get(key)?.length ?? 0)]);
      let chars = stored.reduce((sum, [, size]) => sum + size, 0);
      /** Removes the oldest stored body; returns the characters it freed. */
      const evict = () => {
        const [oldest, size] = stored.shift() as [string, number];
        storage.remove(oldest);
        chars -= size;
        return size;
      };
      const mine: string[] = [];
      for (const body of bodies) {
        // Fixed width in base 36 until 2084; the random part keeps tabs saving in the same millisecond apart.
        const key = `${prefix}${(Date.now() * 1_000 + (saved++ % 1_000)).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
        const length = key.length + body.length;
        // A body that can never fit must not empty the queue on its way out.
        if (length > maxChars) continue;
        // The oldest give way to the bound, and to a full storage, but only if they can make room for this body
        // and no more of them than that takes: storage the app has filled must not cost every stored body.
        while (stored.length && chars + length > maxChars) evict();
        let kept = storage.set(key, body);
        const canMakeRoom = chars >= length;
        let freed = 0;
        while (!kept && canMakeRoom && stored.length && freed < length) {
          freed += evict();
          kept = storage.set(key, body);
        }
        if (!kept) continue;
        stored.push([key, length]);
        mine.push(key);
        chars += length;
      }
      const live = new Set(stored.map(([key]) => key));
      savedKeys = [...savedKeys, ...mine].filter((key) => live.has(key));
      return mine.filter((key) => live.has(key));
    },
    take: () => takeKeys(keys()),
    takeSaved() {
      const taken = takeKeys(savedKeys);
      savedKeys = [];
      return taken;
    },
  };
}
