import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../test/support/memoryStorage.ts';
import { type Settings, validateConfig } from './config.ts';
import { followEdgeRate, startingRate } from './edgeRate.ts';

const settingsFor = (apiKey: string, endpoint = 'https://rum.example.com') =>
  validateConfig({ endpoint, apiKey, serviceName: 'web' }) as Settings;

/** Asks the edge (a stubbed `fetch` answering `rate`) as the agent does after load, and waits for the answer. */
async function askEdge(settings: Settings, storage: ReturnType<typeof memoryStorage>, rate: number) {
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ sampleRate: rate })));
  const setRate = vi.fn();
  await followEdgeRate(settings, storage, setRate)();
  return setRate;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the edge rate', () => {
  it("caps the agent's rate from the next page on", async () => {
    const storage = memoryStorage();
    const settings = settingsFor('pk_a');
    expect(await askEdge(settings, storage, 0.25)).toHaveBeenCalledWith(0.25);
    expect(startingRate(settings, storage)).toBe(0.25);
  });

  it('is kept for its edge and key: another app of the origin starts at its own rate', async () => {
    const storage = memoryStorage();
    await askEdge(settingsFor('pk_a'), storage, 0.25);
    expect(startingRate(settingsFor('pk_b'), storage)).toBe(1);
    expect(startingRate(settingsFor('pk_a', 'https://rum.example.org'), storage)).toBe(1);
  });
});
