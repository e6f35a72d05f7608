import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../test/support/memoryStorage.ts';
import { createPersistentQueue, QUEUE_KEY } from './persistentQueue.ts';

describe('createPersistentQueue', () => {
  it('hands stored bodies over once, in order', () => {
    const storage = memoryStorage();
    createPersistentQueue(storage).save(['a', 'b']);
    createPersistentQueue(storage).save(['c']);
    const nextPage = createPersistentQueue(storage);
    expect(nextPage.take()).toEqual(['a', 'b', 'c']);
    expect(nextPage.take()).toEqual([]);
  });

  it('drops the oldest bodies beyond its bound', () => {
    const queue = createPersistentQueue(memoryStorage(), 16);
    queue.save(['aaaa', 'bbbb']);
    queue.save(['cccc']);
    expect(queue.take()).toEqual(['bbbb', 'cccc']);
  });

  it('keeps what it stores within its bound, quotes escaped and all', () => {
    const storage = memoryStorage();
    const body = JSON.stringify({ resourceSpans: [{ name: '"quoted"' }] });
    createPersistentQueue(storage, 200).save(Array.from({ length: 10 }, () => body));
    const stored = storage.get(QUEUE_KEY) ?? '';
    expect(stored.length).toBeLessThanOrEqual(200);
    expect(JSON.parse(stored).length).toBe(Math.floor((200 - 1) / (JSON.stringify(body).length + 1)));
  });

  it('stores nothing, and does not throw, when storage is full', () => {
    const queue = createPersistentQueue(memoryStorage({ full: true }));
    expect(queue.save(['a'])).toBe(0);
    expect(queue.take()).toEqual([]);
  });

  it('survives a corrupt entry', () => {
    const storage = memoryStorage();
    storage.set(QUEUE_KEY, '{not json');
    expect(createPersistentQueue(storage).take()).toEqual([]);
  });
});
