/**
 * The one global the script-tag build uses between its files: `rumkit.iife.js` puts the modules its later
 * chunks share on it, and each classic-script chunk (`rumkit.deferred.js`, `rumkit.xhr.js`) puts its
 * exports on it under its own name. See scripts/build.ts.
 */
export const CHUNK_GLOBAL = '__rumkit';
