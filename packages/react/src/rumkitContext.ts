/**
 * The React context that carries the running agent from `<RumkitProvider>` to the hooks below it. Its value is
 * `undefined` during server rendering and outside a provider, so every hook degrades to doing nothing.
 */
import type { RumkitAgent } from '@rumkit/browser';
import { createContext } from 'react';

export const RumkitContext = createContext<RumkitAgent | undefined>(undefined);
