import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Settings, validateConfig } from './config.ts';
import { resourceAttributes } from './resource.ts';

const settings = validateConfig({
  endpoint: 'https://rum.example.com',
  apiKey: 'pk_test',
  serviceName: 'web',
}) as Settings;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('resourceAttributes', () => {
  it('names each brand with its version, and the platform and mobile flag, from the client hints', () => {
    vi.stubGlobal('navigator', {
      userAgent: 'Mozilla/5.0 test',
      language: 'de-CH',
      userAgentData: { brands: [{ brand: 'Chromium', version: '142' }], platform: 'Linux', mobile: false },
    });
    expect(resourceAttributes(settings)).toMatchObject({
      'service.name': 'web',
      'user_agent.original': 'Mozilla/5.0 test',
      'browser.language': 'de-CH',
      'browser.brands': ['Chromium 142'],
      'browser.platform': 'Linux',
      'browser.mobile': false,
    });
  });

  it('leaves out what a browser or a polyfill does not give, rather than throw when the first span arrives', () => {
    vi.stubGlobal('navigator', { userAgent: 'Mozilla/5.0 test', language: 'en', userAgentData: { platform: 'Linux' } });
    const attributes = resourceAttributes(settings);
    expect(attributes['browser.brands']).toBeUndefined();
    expect(attributes['browser.platform']).toBe('Linux');
    vi.stubGlobal('navigator', { userAgent: 'Mozilla/5.0 test', language: 'en' });
    expect(resourceAttributes(settings)['browser.brands']).toBeUndefined();
  });
});
