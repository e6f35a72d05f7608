export type { RumkitConfig } from './config.ts';
export { init, type RumkitAgent } from './init.ts';
