/**
 * `localStorage` that never throws: it is missing in some sandboxed frames, throws on access when cookies
 * are blocked, and throws `QuotaExceededError` when full. The agent then keeps working without it.
 *
 *     const storage = safeStorage();
 *     if (!storage.set('rumkit.rate', rate)) log('storage full');
 */
export interface SafeStorage {
  get(key: string): string | null;
  /** False when the value could not be stored. */
  set(key: string, value: string): boolean;
  remove(key: string): void;
  /** Every key stored, the app's too. */
  keys(): string[];
}

export function safeStorage(): SafeStorage {
  const attempt = <T>(run: (storage: Storage) => T, fallback: T): T => {
    try {
      return run(localStorage);
    } catch {
      return fallback;
    }
  };
  return {
    get: (key) => attempt((s) => s.getItem(key), null),
    set: (key, value) =>
      attempt((s) => {
        s.setItem(key, value);
        return true;
      }, false),
    remove: (key) => attempt((s) => s.removeItem(key), undefined),
    keys: () => attempt((s) => Object.keys(s), []),
  };
}
