import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../test/support/memoryStorage.ts';
import { createSession, IDLE_TIMEOUT_MS, MAX_DURATION_MS } from './session.ts';

const clock = (start = 1_000_000) => {
  const c = { now: start, read: () => c.now };
  return c;
};

describe('createSession', () => {
  it('keeps one id while there is activity, and across page loads', () => {
    const storage = memoryStorage();
    const time = clock();
    const first = createSession(storage, time.read).id();
    time.now += IDLE_TIMEOUT_MS - 10_000;
    expect(createSession(storage, time.read).id()).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
  });

  it('renews the id after 30 minutes without activity', () => {
    const time = clock();
    const session = createSession(memoryStorage(), time.read);
    const first = session.id();
    time.now += IDLE_TIMEOUT_MS;
    expect(session.id()).not.toBe(first);
  });

  it('renews the id 4 hours after the session began, however active', () => {
    const time = clock();
    const session = createSession(memoryStorage(), time.read);
    const first = session.id();
    while (time.now < 1_000_000 + MAX_DURATION_MS - 60_000) {
      time.now += 60_000;
      expect(session.id()).toBe(first);
    }
    time.now += 60_000;
    expect(session.id()).not.toBe(first);
  });

  it('follows activity another tab recorded', () => {
    const storage = memoryStorage();
    const time = clock();
    const tabA = createSession(storage, time.read);
    const tabB = createSession(storage, time.read);
    const id = tabA.id();
    for (let i = 0; i < 3; i++) {
      time.now += IDLE_TIMEOUT_MS / 2;
      expect(tabB.id()).toBe(id);
    }
    // Tab A was idle for 90 minutes, but tab B kept the session alive.
    expect(tabA.id()).toBe(id);
  });

  it('works without storage', () => {
    const session = createSession(memoryStorage({ quota: 0 }));
    expect(session.id()).toMatch(/^[0-9a-f]{32}$/);
    expect(session.id()).toBe(session.id());
  });
});
