// Event-time sessions: an activity more than the gap after the customer's latest one starts a
// new session. Time is the event's own (`ts`), so a replay cuts the same sessions as the live run.
// A late activity (older than the latest) joins the current session: sessions are never reopened.
// The session's latest time is read from its activity log, so an activity that continues a
// session writes no session record of its own (one write fewer per event).

import { absorbSession, sessionLastTime, type RecommenderOptions } from './recommender/mod.ts';
import type { StateEditor } from '../staged-state.ts';
import type { StateView } from '../types.ts';
import { keys, type SessionRecord } from './types.ts';

export function currentSession(state: StateView, customer: string): SessionRecord | undefined {
  return state.get<SessionRecord>(keys.session(customer));
}

/** Event time of the session's latest activity. */
export function lastActivity(state: StateView, s: SessionRecord): number {
  return sessionLastTime(state, s.id) ?? s.start;
}

/** The session an activity at `time` belongs to, started when the gap has passed. */
export function sessionFor(state: StateEditor, customer: string, time: number, gapMs: number): SessionRecord {
  const s = currentSession(state, customer);
  if (s !== undefined && time - lastActivity(state, s) <= gapMs) return s;
  const n = (s?.n ?? 0) + 1;
  const next: SessionRecord = { id: `${customer}#${n}`, n, start: time };
  state.put(keys.session(customer), next);
  return next;
}

/**
 * Two customers merged: the survivor's current session takes the other's when both are open
 * (within the gap of each other), the activities of both interleaved by time; otherwise the more
 * recent of the two is the survivor's current session.
 */
export function mergeSessions(state: StateEditor, from: string, into: string, gapMs: number, rec: RecommenderOptions | undefined): void {
  const gone = currentSession(state, from);
  if (gone === undefined) return;
  state.put(keys.session(from), undefined);
  const kept = currentSession(state, into);
  const goneLast = lastActivity(state, gone);
  const keptLast = kept === undefined ? undefined : lastActivity(state, kept);
  if (kept === undefined || goneLast - keptLast! > gapMs) {
    state.put(keys.session(into), { ...gone, n: Math.max(gone.n, kept?.n ?? 0) });
    return;
  }
  if (keptLast! - goneLast > gapMs) return;
  absorbSession(state, kept.id, gone.id, rec);
  if (gone.start < kept.start) state.put(keys.session(into), { ...kept, start: gone.start });
}
