export * from './encodeSpans.ts';
export * from './sampling.ts';
export * from './types.ts';
