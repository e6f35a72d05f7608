import { describe, expect, it } from 'vitest';
import { utf8Length } from './utf8Length.ts';

const encoded = (text: string) => new TextEncoder().encode(text).length;

describe('utf8Length', () => {
  it('is exact for ASCII', () => {
    expect(utf8Length('{"name":"GET"}')).toBe(14);
  });

  it('never undercounts other text', () => {
    for (const text of ['Zürich', '東京', 'emoji 🚀 ok', '\u0000\u007f\u0080\u07ff\u0800\uffff']) {
      expect(utf8Length(text)).toBeGreaterThanOrEqual(encoded(text));
      expect(utf8Length(text)).toBeLessThanOrEqual(3 * text.length);
    }
  });
});
