/**
 * The browser session: one random `session.id` shared by every tab of the origin, renewed after 30 minutes
 * without a span or 4 hours after it began, kept in `localStorage` so page loads continue it.
 *
 *     const session = createSession(safeStorage());
 *     span.setAttribute('session.id', session.id());
 */

import { sessionId } from '../lib/randomId.ts';
import type { SafeStorage } from '../lib/storage.ts';

export const SESSION_KEY = 'rumkit.session';
export const IDLE_TIMEOUT_MS = 30 * 60_000;
export const MAX_DURATION_MS = 4 * 60 * 60_000;
/** Writing the last-activity time on every span would cost a storage write each; this is precise enough. */
const WRITE_INTERVAL_MS = 5_000;

interface SessionRecord {
  id: string;
  /** When the session began, ms since the epoch. */
  start: number;
  /** Last activity, ms since the epoch. */
  last: number;
}

export interface Session {
  /** The current session id, renewed first if the session has expired. Counts as activity. */
  id(): string;
}

export function createSession(storage: SafeStorage, now: () => number = Date.now): Session {
  let current: SessionRecord | undefined;
  let written = 0;
  const isLive = (s: SessionRecord | undefined, t: number): s is SessionRecord =>
    !!s && t - s.last < IDLE_TIMEOUT_MS && t - s.start < MAX_DURATION_MS;

  return {
    id() {
      const t = now();
      // Another tab may have kept the session alive (or renewed it) since this one last looked.
      if (!isLive(current, t)) current = readRecord(storage);
      if (!isLive(current, t)) {
        current = { id: sessionId(), start: t, last: t };
        written = 0;
      }
      current.last = t;
      if (t - written >= WRITE_INTERVAL_MS) {
        storage.set(SESSION_KEY, JSON.stringify(current));
        written = t;
      }
      return current.id;
    },
  };
}

function readRecord(storage: SafeStorage): SessionRecord | undefined {
  try {
    const record = JSON.parse(storage.get(SESSION_KEY) ?? 'null') as SessionRecord | null;
    return typeof record?.id === 'string' && record.start > 0 && record.last > 0 ? record : undefined;
  } catch {
    return undefined;
  }
}
