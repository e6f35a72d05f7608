/**
 * The running agent (`flush`, `setUser`, `setToken`, `recordError`, `pageView`, `tracer`), or `undefined`
 * during server rendering and outside a `<RumkitProvider>`.
 *
 *     const rum = useRumkit();
 *     rum?.setUser({ id: user.id });
 */
import type { RumkitAgent } from '@rumkit/browser';
import { useContext } from 'react';
import { RumkitContext } from './rumkitContext.ts';

export function useRumkit(): RumkitAgent | undefined {
  return useContext(RumkitContext);
}
