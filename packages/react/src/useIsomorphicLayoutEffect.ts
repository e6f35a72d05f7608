/**
 * `useLayoutEffect` in the browser, `useEffect` on the server, where neither runs and React warns about the first.
 *
 *     useIsomorphicLayoutEffect(() => { latest.current = value; });
 */
import { useEffect, useLayoutEffect } from 'react';

export const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;
