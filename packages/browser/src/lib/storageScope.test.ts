import { describe, expect, it } from 'vitest';
import { storageScope } from './storageScope.ts';

describe('storageScope', () => {
  it('is the same for the same edge and key, on every page', () => {
    expect(storageScope('https://rum.example.com', 'pk_live_1')).toBe(
      storageScope('https://rum.example.com', 'pk_live_1'),
    );
  });

  it('differs for another key or another edge', () => {
    const scopes = [
      storageScope('https://rum.example.com', 'pk_live_1'),
      storageScope('https://rum.example.com', 'pk_live_2'),
      storageScope('https://rum.example.org', 'pk_live_1'),
      storageScope('https://rum.example.com/', 'pk_live_1'),
    ];
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  it('is short and fit for a key name', () => {
    expect(storageScope('https://rum.example.com/a long path?with=query', 'pk_€_key')).toMatch(/^[0-9a-z]{1,7}$/);
  });
});
