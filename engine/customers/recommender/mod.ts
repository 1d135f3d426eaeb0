// The customer domain's session-based recommender: VSTAN-style session k-nearest-neighbours,
// learned online from every recorded activity, over a key-value store and nothing else (no
// clock, no randomness), so the engine, a replay and the offline evaluation all rank alike.
//
// An update has two halves, which the engine applies on different partitions: the session's
// log (the customer's), then the item's head — now and then (one append in `chunkSize`) a full
// index chunk, and its bucket's top list when the item changes place in it or enters it (the
// item bucket's). A query only reads.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import { appendSession, blankSessions, readHead } from './item-index.ts';
import { nearestNeighbours, profile } from './neighbours.ts';
import { KIND_CODES, KINDS, resolveOptions, type ActivityKind, type RecommenderOptions } from './options.ts';
import { addActivity, popularItems, updatePopular } from './popularity.ts';
import { recKeys, type ItemHead, type SessionRecord } from './records.ts';
import { fillPopular, remembered, topAccepted, type Ranked } from './ranking.ts';
import { scoreItems } from './scoring.ts';
import { appendActivity, lastTime, readSession } from './session-log.ts';

export type { ActivityKind, RecommenderOptions } from './options.ts';
export { ITEM_BUCKETS, itemBucket, recKeys } from './records.ts';
// A session's log as stored, for moving it to another customer's partition.
export { lastTime, readSession as sessionLog } from './session-log.ts';
export type { IndexChunk, ItemHead, PopularRecord, SessionRecord } from './records.ts';

/** The latest event time among a session's kept activities; undefined for a session never recorded. */
export function sessionLastTime(state: StateView, session: string): number | undefined {
  const s = readSession(state, session);
  return s === undefined ? undefined : lastTime(s);
}

/** Adds one activity to session `session` (the caller decides when a new session starts) at event time `time` (epoch ms). */
export function recordActivity(
  state: StateEditor,
  session: string,
  sku: string,
  kind: ActivityKind,
  time: number,
  options?: RecommenderOptions,
): void {
  const had = recordInSession(state, session, sku, kind, time, options);
  recordForItem(state, sku, session, kind, time, had, options);
}

/**
 * The session's half of an activity: appends it to the session's log. Returns whether the
 * session had the SKU among its kept activities before (then the item's index lists it already).
 */
export function recordInSession(state: StateEditor, session: string, sku: string, kind: ActivityKind, time: number, options?: RecommenderOptions): boolean {
  const o = resolveOptions(options);
  return appendActivity(state, session, readSession(state, session), sku, KIND_CODES[kind] ?? 0, time, o.sessionKept);
}

/** The item's half of an activity: its popularity, and its index lists `session` unless `had`. */
export function recordForItem(
  state: StateEditor,
  sku: string,
  session: string,
  kind: ActivityKind,
  time: number,
  had: boolean,
  options?: RecommenderOptions,
): void {
  const o = resolveOptions(options);
  const code = KIND_CODES[kind] ?? 0;
  const head = readHead(state, sku);
  // A zero weight would be ln 0: the smallest positive one counts as nothing without breaking the log.
  const l = addActivity(head?.l, Math.max(o.kindWeights[code], Number.MIN_VALUE), time, o);
  const index = had && head !== undefined ? head : appendSession(state, sku, head, session, time, o);
  state.put(recKeys.item(sku), { n: index.n, l, s: index.s, t: index.t } satisfies ItemHead);
  updatePopular(state, sku, l, o);
}

/**
 * Lists `session` in the item's index, as of `time`, its popularity unchanged. The item may have
 * no head yet — its first activity's half (recordForItem) can come after this, as derived events
 * from two partitions may be re-sent in either order after a restart: the head then starts with
 * no popularity (ln 0 = −∞, which the first activity's weight replaces).
 */
export function indexSession(state: StateEditor, sku: string, session: string, time: number, options?: RecommenderOptions): void {
  const o = resolveOptions(options);
  const head = readHead(state, sku);
  const index = appendSession(state, sku, head, session, time, o);
  state.put(recKeys.item(sku), { n: index.n, l: head?.l ?? -Infinity, s: index.s, t: index.t } satisfies ItemHead);
}

/** Erasure: `sessions` no longer appear in the item's index (blanked in place); how many entries were. */
export function unindexSessions(state: StateEditor, sku: string, sessions: readonly string[], options?: RecommenderOptions): number {
  return blankSessions(state, sku, new Set(sessions), resolveOptions(options));
}

/**
 * The ranked next items for `session`, best first, at most `limit`. `accept(sku)` false leaves a
 * SKU out; the list is still filled from lower-ranked candidates and then popularity. Items
 * already in the session may be recommended (shoppers often go back to them).
 */
export function recommend(
  state: StateView,
  session: string,
  limit: number,
  accept?: (sku: string) => boolean,
  options?: RecommenderOptions,
): Array<{ sku: string; score: number }> {
  const o = resolveOptions(options);
  if (limit <= 0) return [];
  const ok = remembered(accept);
  const s = readSession(state, session);
  let list: Ranked[] = [];
  if (s !== undefined && s.i.length > 0) {
    const p = profile(s, o);
    list = topAccepted(scoreItems(p, nearestNeighbours(state, session, p, o), o), limit, ok);
  }
  return fillPopular(list, popularItems(state), limit, ok);
}

/**
 * Two customers merged while both had a session open: session `into` takes the activities of
 * `gone` (the other's log), interleaved by event time (the latest `sessionKept` kept). Returns
 * the SKUs `into` gained, with the time of its latest activity: each item's index is to list
 * `into` as of then (indexSession), on the item's partition. Popularity is not counted again:
 * those activities were counted when they happened.
 */
export function absorbSession(
  state: StateEditor,
  into: string,
  gone: SessionRecord,
  options?: RecommenderOptions,
): { gained: string[]; time: number } {
  const o = resolveOptions(options);
  const kept = readSession(state, into);
  const rows: Array<[string, number, number]> = [];
  if (kept) for (let j = 0; j < kept.i.length; j++) rows.push([kept.i[j], kept.k[j], kept.t[j]]);
  for (let j = 0; j < gone.i.length; j++) rows.push([gone.i[j], gone.k[j], gone.t[j]]);
  // Stable: on equal times the survivor's own activity comes first.
  rows.sort((a, b) => a[2] - b[2]);
  const last = rows.slice(-o.sessionKept);
  state.put(recKeys.session(into), { i: last.map((r) => r[0]), k: last.map((r) => r[1]), t: last.map((r) => r[2]) } satisfies SessionRecord);
  const had = new Set(kept?.i ?? []);
  const gained: string[] = [];
  for (const [sku] of last) {
    if (had.has(sku)) continue;
    had.add(sku);
    gained.push(sku);
  }
  return { gained, time: last.length > 0 ? last[last.length - 1][2] : 0 };
}

/** The session's kept activities (its latest `sessionKept`), oldest first. */
export function sessionItems(state: StateView, session: string): Array<{ sku: string; kind: ActivityKind; time: number }> {
  const s = readSession(state, session);
  if (s === undefined) return [];
  return s.i.map((sku, j) => ({ sku, kind: KINDS[s.k[j]] ?? 'viewed', time: s.t[j] }));
}
