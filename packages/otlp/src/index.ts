export * from './base64.ts';
export * from './encodeSpans.ts';
export * from './protobuf.ts';
export * from './retryAfter.ts';
export * from './sampling.ts';
export * from './types.ts';
export * from './validate.ts';
