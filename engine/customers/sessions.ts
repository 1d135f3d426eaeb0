// Event-time sessions: an activity more than the gap after the customer's latest one starts a
// new session. Time is the event's own (`ts`), so a replay cuts the same sessions as the live run.
// A late activity (older than the latest) joins the current session: sessions are never reopened.
// When two customers merge, the one merged away hands its session over to the survivor's
// partition (mergeSession). The session's latest time is read from its activity log, so an activity that continues a
// session writes no session record of its own (one write fewer per event).

import { absorbSession, lastTime, sessionLastTime, sessionLog, type RecommenderOptions, type SessionRecord as SessionLog } from './recommender/mod.ts';
import type { StateEditor } from '../staged-state.ts';
import type { StateView } from '../types.ts';
import { keys, type SessionRecord } from './types.ts';

export function currentSession(state: StateView, customer: string): SessionRecord | undefined {
  return state.get<SessionRecord>(keys.session(customer));
}

/**
 * Consecutive missing session logs after which a name with no current session is taken to have
 * no more: its logs are numbered from 1, but a session started without activity of its own (a
 * merge that moved a session record without a log) leaves a number with no log.
 */
const MISSES_ENDING_SESSIONS = 4;
/** Sessions looked for under one name at most: a walk over corrupt state must end. */
const MAX_SESSIONS_OF_NAME = 10_000;

/**
 * Every session log kept under `name` (`name#1`, `name#2`, …), oldest first: up to its current
 * session while it has one, else until MISSES_ENDING_SESSIONS numbers in a row have none (a name
 * merged into another handed its current session on). The one walk the data-subject export and
 * the erasure both take, so an erasure deletes exactly what an export shows.
 */
export function keptSessions(view: StateView, name: string): Array<{ id: string; log: SessionLog }> {
  const current = currentSession(view, name);
  const out: Array<{ id: string; log: SessionLog }> = [];
  let misses = 0;
  for (let n = 1; n <= MAX_SESSIONS_OF_NAME && (current !== undefined ? n <= current.n : misses < MISSES_ENDING_SESSIONS); n++) {
    const id = `${name}#${n}`;
    const log = sessionLog(view, id);
    if (log === undefined) {
      misses++;
      continue;
    }
    misses = 0;
    out.push({ id, log });
  }
  return out;
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
