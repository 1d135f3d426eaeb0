// Event-time sessions: an activity more than the gap after the customer's latest one starts a
// new session. Time is the event's own (`ts`), so a replay cuts the same sessions as the live run.
// A late activity (older than the latest) joins the current session: sessions are never reopened.

import { recordActivity, sessionItems, type ActivityKind, type RecommenderOptions } from './recommender/mod.ts';
import type { StateEditor } from './editor.ts';
import { keys, type SessionRecord } from './types.ts';

export function currentSession(state: StateEditor | { get<T>(key: string): T | undefined }, customer: string): SessionRecord | undefined {
  return state.get<SessionRecord>(keys.session(customer));
}

/** The session an activity at `time` belongs to, started or extended. */
export function sessionFor(state: StateEditor, customer: string, time: number, gapMs: number): SessionRecord {
  const s = currentSession(state, customer);
  let next: SessionRecord;
  if (s === undefined || time - s.last > gapMs) {
    const n = (s?.n ?? 0) + 1;
    next = { id: `${customer}#${n}`, n, start: time, last: time };
  } else {
    next = { ...s, last: Math.max(s.last, time) };
  }
  state.put(keys.session(customer), next);
  return next;
}

/**
 * Two customers merged: the survivor's current session takes the other's when both are open
 * (within the gap of each other), its activities added in time order; otherwise the more
 * recent of the two is the survivor's current session.
 */
export function mergeSessions(state: StateEditor, from: string, into: string, gapMs: number, rec: RecommenderOptions | undefined): void {
  const gone = currentSession(state, from);
  if (gone === undefined) return;
  state.put(keys.session(from), undefined);
  const kept = currentSession(state, into);
  if (kept === undefined || gone.last - kept.last > gapMs) {
    state.put(keys.session(into), { ...gone, n: Math.max(gone.n, kept?.n ?? 0) });
    return;
  }
  if (kept.last - gone.last > gapMs) return;
  for (const a of sessionItems(state, gone.id)) recordActivity(state, kept.id, a.sku, a.kind as ActivityKind, a.time, rec);
  state.put(keys.session(into), { ...kept, start: Math.min(kept.start, gone.start), last: Math.max(kept.last, gone.last) });
}
