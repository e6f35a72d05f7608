export * from './encodeSpans.ts';
export * from './protobuf.ts';
export * from './sampling.ts';
export * from './types.ts';
export * from './validate.ts';
