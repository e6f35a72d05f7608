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
});
