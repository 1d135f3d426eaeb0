// Event-time sessions: an activity more than the gap after the customer's latest one starts a
// new session. Time is the event's own (`ts`), so a replay cuts the same sessions as the live run.
// A late activity (older than the latest) joins the current session: sessions are never reopened.
// When two customers merge, the one merged away hands its session over to the survivor's
// partition (mergeSession). The session's latest time is read from its activity log, so an activity that continues a
// session writes no session record of its own (one write fewer per event).

import { absorbSession, lastTime, sessionLastTime, type RecommenderOptions, type SessionRecord as SessionLog } from './recommender/mod.ts';
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
  return startSession(state, customer, s, time);
}

/** The customer's next session after `prev`, started at `start`, as its current one. */
function startSession(state: StateEditor, customer: string, prev: SessionRecord | undefined, start: number): SessionRecord {
  const n = (prev?.n ?? 0) + 1;
  const next: SessionRecord = { id: `${customer}#${n}`, n, start };
  state.put(keys.session(customer), next);
  return next;
}

/** A session as it moves to the partition of the customer it was merged into. */
export interface MovingSession {
  record: SessionRecord;
  /** Its activity log (absent when nothing was recorded in it). */
  log?: SessionLog;
}

/** An item whose index is to list a session (indexSession), on the item's partition. */
export interface IndexEntry {
  sku: string;
  session: string;
  time: number;
}

/**
 * Two customers merged: the survivor's current session takes the other's when both are open
 * (within the gap of each other), the activities of both interleaved by time; otherwise the more
 * recent of the two is the survivor's current session. A session taken whole is copied under the
 * survivor's name, as session logs are kept on the partition of the customer they name. Returns
 * the entries the items' indexes are to gain.
 */
export function mergeSession(state: StateEditor, into: string, gone: MovingSession, gapMs: number, rec: RecommenderOptions | undefined): IndexEntry[] {
  const kept = currentSession(state, into);
  const goneLast = gone.log ? lastTime(gone.log) : gone.record.start;
  const keptLast = kept === undefined ? undefined : lastActivity(state, kept);
  let session: SessionRecord;
  if (kept === undefined || goneLast - keptLast! > gapMs) {
    session = startSession(state, into, kept, gone.record.start);
  } else {
    if (keptLast! - goneLast > gapMs || gone.log === undefined) return [];
    session = kept;
    if (gone.record.start < kept.start) state.put(keys.session(into), { ...kept, start: gone.record.start });
  }
  if (gone.log === undefined) return [];
  const { gained, time } = absorbSession(state, session.id, gone.log, rec);
  return gained.map((sku) => ({ sku, session: session.id, time }));
}
