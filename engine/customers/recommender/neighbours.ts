// The current session's nearest neighbours (V-SKNN / VSTAN, Ludewig & Jannach): the most recent
// sessions sharing an item with it, scored by the position-decayed weights of what they share
// (normalised by the current session only: dividing by the neighbour's length, as the cosine
// does, lost accuracy in tuning) and discounted by how long before the current session they were
// active; the best k are kept.

import type { StateView } from '../../types.ts';
import { EntryCursor, readHead } from './item-index.ts';
import { at, decay, type ResolvedOptions } from './options.ts';
import type { SessionRecord } from './records.ts';
import { lastTime, readSession } from './session-log.ts';

/** One distinct item of the current session. */
export interface ProfileItem {
  /** Decayed by how many clicks ago it last was, times its kind's weight. */
  w: number;
  /** Position (1-based over the kept activities) of its latest click. */
  pos: number;
}

/** The current session as the similarity sees it. */
export interface Profile {
  items: Map<string, ProfileItem>;
  length: number;
  norm: number;
  time: number;
  /** Latest distinct items, newest first, at most `queryItems`. */
  recent: string[];
}

export interface Neighbour {
  id: string;
  items: SessionRecord;
  sim: number;
  /** Position in the current session of the latest item the two share. */
  match: number;
}

export function profile(s: SessionRecord, o: ResolvedOptions): Profile {
  const items = new Map<string, ProfileItem>();
  const length = s.i.length;
  for (let j = 0; j < length; j++) {
    const k = o.kindWeights[s.k[j]] ?? 1;
    const it = items.get(s.i[j]);
    if (it === undefined) items.set(s.i[j], { w: k, pos: j + 1 });
    else {
      it.pos = j + 1;
      // The strongest kind the session had it with: a purchase stays a purchase when viewed again.
      if (k > it.w) it.w = k;
    }
  }
  let sq = 0;
  for (const it of items.values()) {
    it.w *= at(o.positionTable, length - it.pos);
    sq += it.w * it.w;
  }
  const recent: string[] = [];
  for (let j = length - 1; j >= 0 && recent.length < o.queryItems; j--) {
    if (items.get(s.i[j])!.pos === j + 1) recent.push(s.i[j]);
  }
  return { items, length, norm: Math.sqrt(sq), time: lastTime(s), recent };
}

interface Sampled {
  id: string;
  dot: number;
  /** Position in the current session of the latest shared item. */
  match: number;
  /** The latest time it had one of the shared items: its recency. */
  time: number;
  /** Bit per recent item already counted (an index may list a session twice). */
  counted: number;
}

/**
 * The nearest neighbours among the `sampleSize` most recent other sessions that had one of the
 * profile's recent items. The items' newest-first index entries are merged by time to draw the
 * sample; the similarity comes from the same entries (a session in an item's entries has that
 * item), so only the k neighbours' own records are read, for their items.
 */
export function nearestNeighbours(state: StateView, self: string, p: Profile, o: ResolvedOptions): Neighbour[] {
  const cursors: EntryCursor[] = [];
  const weights: ProfileItem[] = [];
  const idf: number[] = [];
  for (const sku of p.recent) {
    const head = readHead(state, sku);
    if (head === undefined) continue;
    // One more than the sample: the session itself is in the entries too.
    const cur = new EntryCursor(state, sku, head, o.sampleSize + 1, o);
    if (cur.done) continue;
    cursors.push(cur);
    weights.push(p.items.get(sku)!);
    idf.push(idfWeight(head.n, o.idfPower));
  }
  const sample = new Map<string, Sampled>();
  const count = (j: number, cur: EntryCursor, s: Sampled) => {
    const bit = 1 << j;
    if ((s.counted & bit) !== 0) return;
    s.counted |= bit;
    s.dot += weights[j].w * idf[j];
    if (weights[j].pos > s.match) s.match = weights[j].pos;
    if (cur.time > s.time) s.time = cur.time;
  };
  // The merge: newest entry first, until the sample is full.
  while (sample.size < o.sampleSize) {
    let best = -1;
    for (let j = 0; j < cursors.length; j++) {
      if (!cursors[j].done && (best < 0 || cursors[j].time > cursors[best].time)) best = j;
    }
    if (best < 0) break;
    const cur = cursors[best];
    if (cur.session !== self) {
      let s = sample.get(cur.session);
      if (s === undefined) sample.set(cur.session, (s = { id: cur.session, dot: 0, match: 0, time: 0, counted: 0 }));
      count(best, cur, s);
    }
    cur.next();
  }
  // The sampled sessions' older entries under the other items still count towards their similarity.
  for (let j = 0; j < cursors.length; j++) {
    for (const cur = cursors[j]; !cur.done; cur.next()) {
      const s = sample.get(cur.session);
      if (s !== undefined) count(j, cur, s);
    }
  }
  const ranked: Array<{ s: Sampled; sim: number }> = [];
  for (const s of sample.values()) {
    let sim = s.dot / p.norm;
    if (o.recencyMs > 0) sim *= decay(Math.max(0, p.time - s.time), o.recencyMs);
    ranked.push({ s, sim });
  }
  if (ranked.length > o.neighbours) {
    ranked.sort((a, b) => b.sim - a.sim || (a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0));
    ranked.length = o.neighbours;
  }
  const out: Neighbour[] = [];
  for (const { s, sim } of ranked) {
    const items = readSession(state, s.id);
    if (items !== undefined) out.push({ id: s.id, items, sim, match: s.match });
  }
  return out;
}

/**
 * How rare an item is: n^−power, n its sessions so far (the head's append count, no global
 * counter); 1 when `power` is 0 (off). A power rather than ln(N / n): only the ratios between the
 * query's items matter, and these stay the same as the store grows, where a fixed N would not.
 */
export function idfWeight(n: number, power: number): number {
  return power > 0 ? Math.max(1, n) ** -power : 1;
}
