import { describe, expect, it } from 'vitest';
import { exceptionAttributes } from './index.ts';

describe('exceptionAttributes', () => {
  it('takes type, message and stack from an Error', () => {
    const error = new TypeError('x is not a function');
    expect(exceptionAttributes(error)).toEqual({
      'exception.type': 'TypeError',
      'exception.message': 'x is not a function',
      'exception.stacktrace': error.stack,
    });
  });

  it('keeps what a thrown non-Error carries', () => {
    expect(exceptionAttributes('boom')).toEqual({ 'exception.type': 'string', 'exception.message': 'boom' });
    expect(exceptionAttributes(null)).toEqual({ 'exception.type': 'object', 'exception.message': 'null' });
    expect(exceptionAttributes({ message: 'from a plain object' })).toMatchObject({
      'exception.message': 'from a plain object',
    });
  });

  it('gives a plain object as JSON, and never throws for a value without toString or JSON', () => {
    expect(exceptionAttributes({ code: 'E_PAY', status: 402 })['exception.message']).toBe(
      '{"code":"E_PAY","status":402}',
    );
    const bare = Object.assign(Object.create(null), { code: 7 });
    expect(exceptionAttributes(bare)).toMatchObject({ 'exception.type': 'object', 'exception.message': '{"code":7}' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(exceptionAttributes(circular)['exception.message']).toBe('object');
    // Not a plain object: its own text, not "{}".
    expect(exceptionAttributes(new URL('https://x.example/'))['exception.message']).toBe('https://x.example/');
  });
});
