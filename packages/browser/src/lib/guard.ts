/**
 * The agent never throws into the page: a failing call is reported on the console instead.
 *
 *     setTimeout(guard(() => observeWebVitals(() => agent)));
 */
export function guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (error) {
      console.error('rumkit:', error);
    }
  };
}
