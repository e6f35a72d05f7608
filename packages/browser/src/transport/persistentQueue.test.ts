import { describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../../test/support/memoryStorage.ts';
import { createPersistentQueue, QUEUE_PREFIX } from './persistentQueue.ts';

const SCOPE = 'app1';
/** The start of each key the queue stores. */
const PREFIX = `${QUEUE_PREFIX}${SCOPE}.`;

const storedChars = (data: Map<string, string>) =>
  [...data]
    .filter(([key]) => key.startsWith(QUEUE_PREFIX))
    .reduce((sum, [key, body]) => sum + key.length + body.length, 0);

describe('createPersistentQueue', () => {
  it('hands stored bodies over once, in order', () => {
    const storage = memoryStorage();
    createPersistentQueue(storage, SCOPE).save(['a', 'b']);
    createPersistentQueue(storage, SCOPE).save(['c']);
    const nextPage = createPersistentQueue(storage, SCOPE);
    expect(nextPage.take()).toEqual(['a', 'b', 'c']);
    expect(nextPage.take()).toEqual([]);
  });

  it('keeps each body under a key of its own, so that tabs saving at once do not overwrite each other', () => {
    const storage = memoryStorage();
    const [first] = createPersistentQueue(storage, SCOPE).save(['a']);
    const [second] = createPersistentQueue(storage, SCOPE).save(['b']);
    expect(first).not.toBe(second);
    expect([first, second].map((key) => storage.get(key as string))).toEqual(['a', 'b']);
  });

  it('takes only what it saved itself when asked, leaving the rest (and bodies taken elsewhere) alone', () => {
    const storage = memoryStorage();
    const queue = createPersistentQueue(storage, SCOPE);
    const mine = queue.save(['mine', 'taken elsewhere']);
    createPersistentQueue(storage, SCOPE).save(['theirs']);
    storage.remove(mine[1] as string);
    expect(queue.takeSaved()).toEqual(['mine']);
    expect(queue.takeSaved()).toEqual([]);
    expect(queue.take()).toEqual(['theirs']);
  });

  it('forgets what it saved once the bound evicted it, however long it keeps saving', () => {
    const storage = memoryStorage();
    const reads: string[] = [];
    const counting = {
      ...storage,
      get(key: string) {
        reads.push(key);
        return storage.get(key);
      },
    };
    const queue = createPersistentQueue(counting, SCOPE, 3 * (PREFIX.length + 16 + 4));
    // A save every few seconds, as a tab offline for an hour makes them.
    let now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => (now += 3_000));
    for (let i = 0; i < 1000; i++) queue.save([String(i).padStart(4, '0')]);
    clock.mockRestore();
    reads.length = 0;
    expect(queue.takeSaved()).toEqual(['0997', '0998', '0999']);
    // One read per key still stored, none for the 997 keys evicted along the way.
    expect(reads).toHaveLength(3);
  });

  it('drops the oldest bodies beyond its bound, and says which of the given ones it kept', () => {
    const storage = memoryStorage();
    const queue = createPersistentQueue(storage, SCOPE, 2 * (PREFIX.length + 16 + 4));
    queue.save(['aaaa', 'bbbb']);
    const kept = queue.save(['cccc']);
    expect(kept).toHaveLength(1);
    expect(queue.take()).toEqual(['bbbb', 'cccc']);
  });

  it('keeps what it stores, keys and all, within its bound', () => {
    const storage = memoryStorage();
    const body = JSON.stringify({ resourceSpans: [{ name: '"quoted"' }] });
    const kept = createPersistentQueue(storage, SCOPE, 400).save(Array.from({ length: 10 }, () => body));
    expect(storedChars(storage.data)).toBeLessThanOrEqual(400);
    expect(kept).toHaveLength(Math.floor(400 / (PREFIX.length + 16 + body.length)));
  });

  it('lets the oldest give way when storage refuses a write', () => {
    const storage = memoryStorage({ quota: 2 * (PREFIX.length + 16 + 4) });
    const queue = createPersistentQueue(storage, SCOPE);
    queue.save(['aaaa', 'bbbb']);
    expect(queue.save(['cccc'])).toHaveLength(1);
    expect(queue.take()).toEqual(['bbbb', 'cccc']);
  });

  it('leaves the queue alone for a body that can never fit, in the bound or in storage', () => {
    const bounded = createPersistentQueue(memoryStorage(), SCOPE, 200);
    bounded.save(['aaaa', 'bbbb']);
    expect(bounded.save(['x'.repeat(200)])).toEqual([]);
    expect(bounded.take()).toEqual(['aaaa', 'bbbb']);
    // The app fills the rest of storage: every stored body given up would still not make room for a large one.
    const storage = memoryStorage({ quota: 1_000 });
    const queue = createPersistentQueue(storage, SCOPE);
    queue.save(['aaaa', 'bbbb']);
    storage.set('app.state', 'x'.repeat(1_000 - storedChars(storage.data) - 'app.state'.length));
    expect(queue.save(['c'.repeat(500)])).toEqual([]);
    expect(queue.take()).toEqual(['aaaa', 'bbbb']);
  });

  it('stores nothing, and does not throw, when storage is full', () => {
    const queue = createPersistentQueue(memoryStorage({ quota: 0 }), SCOPE);
    expect(queue.save(['a'])).toEqual([]);
    expect(queue.take()).toEqual([]);
  });

  it("neither takes nor evicts the bodies of another app's queue (another edge or key) on the origin", () => {
    const storage = memoryStorage();
    createPersistentQueue(storage, 'app2').save(['theirs']);
    const bounded = createPersistentQueue(storage, SCOPE, PREFIX.length + 16 + 4);
    bounded.save(['aaaa']);
    bounded.save(['bbbb']);
    expect(bounded.take()).toEqual(['bbbb']);
    expect(createPersistentQueue(storage, 'app2').take()).toEqual(['theirs']);
  });

  it("leaves the app's own keys alone", () => {
    const storage = memoryStorage();
    storage.set('app.state', '{}');
    createPersistentQueue(storage, SCOPE).save(['a']);
    expect(createPersistentQueue(storage, SCOPE).take()).toEqual(['a']);
    expect(storage.get('app.state')).toBe('{}');
  });
});
