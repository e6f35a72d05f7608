/**
 * How the agent reaches the code it loads after `load`. The npm build uses a dynamic `import()` (the app's
 * bundler makes the chunk); the script-tag build loads a classic-script chunk from beside itself (script.ts).
 *
 *     createAgent(config, { loadDeferred: importDeferred });
 */
import type * as Deferred from './deferred.ts';

export type LoadDeferred = () => Promise<typeof Deferred>;

export const importDeferred: LoadDeferred = () => import('./deferred.ts');
