import { describe, expect, it } from 'vitest';
import { configFromDataset } from './configFromDataset.ts';

describe('configFromDataset', () => {
  it('converts numbers, lists and booleans and keeps strings', () => {
    expect(
      configFromDataset({
        endpoint: 'https://rum.example.com',
        apiKey: 'pk_1',
        sampleRate: '0.25',
        propagateTraceHeaderCorsUrls: 'https://api.example.com, https://b.example.com',
        debug: '',
        xhr: 'false',
      }),
    ).toStrictEqual({
      endpoint: 'https://rum.example.com',
      apiKey: 'pk_1',
      sampleRate: 0.25,
      propagateTraceHeaderCorsUrls: ['https://api.example.com', 'https://b.example.com'],
      debug: true,
      xhr: false,
    });
  });

  it("leaves out data-* attributes that are not the agent's", () => {
    expect(configFromDataset({ apiKey: 'pk_1', cfasync: 'false', testid: 'rum', endpointUrl: 'x' })).toStrictEqual({
      apiKey: 'pk_1',
    });
  });
});
