/**
 * The handle `init()` returns: what an app may do with the running agent. Its own module, so that the package's
 * public declarations (`init`, `RumkitConfig`, `RumkitAgent`) name only its dependencies' types, not those of
 * the code it bundles (the instrumentations, `web-vitals`), which an app's type check could not resolve.
 */
import type { Attributes, Tracer } from '@opentelemetry/api';

export interface RumkitUser {
  id: string | number;
  [key: string]: string | number | boolean;
}

export interface RumkitAgent {
  /** Sends every finished span now; resolves once each batch has had its first attempt. */
  flush(): Promise<void>;
  /** Flushes, then removes every listener and wrapper the agent installed; a later `init()` starts anew. */
  shutdown(): Promise<void>;
  /** `user.id` (and `user.<key>` for each other key) on spans started from now on; `null` forgets the user. */
  setUser(user: RumkitUser | null): void;
  /** The sender token of requests from now on, for a key that requires one (renew it before it expires). */
  setToken(token: string): void;
  /** An `exception` event on the active span, or an `exception` span when none is active. */
  recordError(error: unknown, attributes?: Attributes): void;
  /** Starts a new page view, or names the route of the one the agent started for the same URL within the last second. */
  pageView(route?: string): void;
  tracer: Tracer;
}
