// The current session's nearest neighbours (V-SKNN / VSTAN, Ludewig & Jannach): the most recent
// sessions sharing an item with it, compared by a position-weighted cosine and discounted by how
// long before the current session they were active; the best k are kept.

import type { StateView } from '../../types.ts';
import { recentSessions, readHead } from './item-index.ts';
import { decay, type ResolvedOptions } from './options.ts';
import type { SessionRecord } from './records.ts';
import { lastTime, readSession } from './session-log.ts';

/** The current session as the similarity sees it. */
export interface Profile {
  /** Weight of each distinct item: decayed by how many clicks ago it last was, times its kind's weight. */
  weight: Map<string, number>;
  /** Position (1-based over the kept activities) of each item's latest click. */
  pos: Map<string, number>;
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
  const weight = new Map<string, number>();
  const pos = new Map<string, number>();
  const kind = new Map<string, number>();
  const length = s.i.length;
  for (let j = 0; j < length; j++) {
    const sku = s.i[j];
    pos.set(sku, j + 1);
    const k = o.kindWeights[s.k[j]] ?? 1;
    if (k > (kind.get(sku) ?? 0)) kind.set(sku, k);
  }
  let sq = 0;
  const recent: string[] = [];
  for (const [sku, p] of pos) {
    const w = decay(length - p, o.positionDecay) * (kind.get(sku) ?? 1);
    weight.set(sku, w);
    sq += w * w;
  }
  for (let j = length - 1; j >= 0 && recent.length < o.queryItems; j--) {
    if (pos.get(s.i[j]) === j + 1) recent.push(s.i[j]);
  }
  return { weight, pos, length, norm: Math.sqrt(sq), time: lastTime(s), recent };
}

/**
 * The `sampleSize` most recent other sessions that had one of the profile's recent items: a merge
 * of the items' newest-first index entries, so no more is read than the sample needs.
 */
function candidates(state: StateView, self: string, p: Profile, o: ResolvedOptions): string[] {
  const lists: Array<{ s: string[]; t: number[] }> = [];
  for (const sku of p.recent) {
    const head = readHead(state, sku);
    if (head === undefined) continue;
    const l = { s: [] as string[], t: [] as number[] };
    // One more than the sample: the session itself is in the lists too.
    recentSessions(state, sku, head, o.sampleSize + 1, o, l.s, l.t);
    if (l.s.length > 0) lists.push(l);
  }
  const at = new Array<number>(lists.length).fill(0);
  const seen = new Set<string>([self]);
  const out: string[] = [];
  while (out.length < o.sampleSize) {
    let best = -1;
    let bestT = -Infinity;
    for (let j = 0; j < lists.length; j++) {
      if (at[j] < lists[j].t.length && lists[j].t[at[j]] > bestT) {
        best = j;
        bestT = lists[j].t[at[j]];
      }
    }
    if (best < 0) break;
    const id = lists[best].s[at[best]++];
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  }
  return out;
}

export function nearestNeighbours(state: StateView, self: string, p: Profile, o: ResolvedOptions): Neighbour[] {
  const found: Neighbour[] = [];
  for (const id of candidates(state, self, p, o)) {
    const items = readSession(state, id);
    if (items === undefined) continue;
    let dot = 0;
    let match = 0;
    // Shared items are few: a short list keeps each counted once without a set per neighbour.
    const shared: string[] = [];
    for (let j = 0; j < items.i.length; j++) {
      const sku = items.i[j];
      const w = p.weight.get(sku);
      if (w === undefined || shared.includes(sku)) continue;
      shared.push(sku);
      dot += w;
      const q = p.pos.get(sku)!;
      if (q > match) match = q;
    }
    if (dot === 0) continue;
    let sim = dot / p.norm;
    if (o.lengthNorm !== 0) sim /= Math.pow(new Set(items.i).size, o.lengthNorm);
    if (o.recencyMs > 0) sim *= decay(Math.max(0, p.time - lastTime(items)), o.recencyMs);
    found.push({ id, items, sim, match });
  }
  found.sort((a, b) => b.sim - a.sim || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (found.length > o.neighbours) found.length = o.neighbours;
  return found;
}
