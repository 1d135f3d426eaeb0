// Item scores from the neighbours (VSTAN): each neighbour votes its similarity for each of its
// items, less for items far (in clicks) from where it met the current session and less when what
// it shares with the current session was clicked long ago. The session's own items get a
// reminder lift: a shopper's next click is often one they already made (the last item most, and
// no item of the session ever below a floor). The sequential rules (sequence.ts) add what the
// neighbours clicked right after the session's last item, and the coverage what most of them had.

import type { Neighbour, Profile } from './neighbours.ts';
import { at, type ResolvedOptions } from './options.ts';
import { sequenceScores } from './sequence.ts';

interface Candidate {
  score: number;
  /** The last neighbour that voted for it, so a neighbour votes once per item. */
  seen: number;
  /** Neighbours that voted for it. */
  voters: number;
}

export function scoreItems(p: Profile, neighbours: Neighbour[], o: ResolvedOptions): Map<string, Candidate> {
  const scores = new Map<string, Candidate>();
  const viewOnly = o.kindWeights[0];
  for (let n = 0; n < neighbours.length; n++) {
    const nb = neighbours[n];
    const s = nb.items;
    // Where the two meet: the neighbour's latest click on anything the current session has.
    let meet = 0;
    for (let j = s.i.length - 1; j >= 0; j--) {
      if (p.items.has(s.i[j])) {
        meet = j + 1;
        break;
      }
    }
    const mixed = s.k.some((k) => k !== 0);
    const base = nb.sim * at(o.matchTable, p.length - nb.match);
    // Newest first, so an item's first sighting is its latest click.
    for (let j = s.i.length - 1; j >= 0; j--) {
      const sku = s.i[j];
      let c = scores.get(sku);
      if (c === undefined) scores.set(sku, (c = { score: 0, seen: -1, voters: 0 }));
      else if (c.seen === n) continue;
      c.seen = n;
      // A neighbour with no similarity has no say, in the coverage either.
      if (base > 0) c.voters++;
      const kind = mixed ? strongestKind(s.i, s.k, sku, o) : viewOnly;
      const side = j + 1 < meet ? o.backwardWeight : 1;
      c.score += base * at(o.neighbourTable, Math.abs(j + 1 - meet)) * kind * side;
    }
  }
  let top = 0;
  for (const c of scores.values()) if (c.score > top) top = c.score;
  if (top === 0) top = 1;
  if (o.coverageWeight > 0) {
    // Shared by many neighbours, however similar or far from where they meet the session: the
    // decayed vote alone leans on a few close neighbours, and the share of all k adds what most went on to.
    const per = (o.coverageWeight * top) / Math.max(1, o.neighbours);
    for (const c of scores.values()) c.score += per * c.voters;
  }
  if (o.sequenceWeight > 0 && p.recent.length > 0) {
    const seq = sequenceScores(p.recent[0], neighbours, o.sequenceWindow);
    let seqTop = 0;
    for (const v of seq.values()) if (v > seqTop) seqTop = v;
    // The rules follow the last click only as far as the profile weighs it: a view after a
    // purchase leads less than the purchase (with views only, the last click always weighs most).
    let strongest = 0;
    for (const it of p.items.values()) if (it.w > strongest) strongest = it.w;
    const lead = strongest > 0 ? p.items.get(p.recent[0])!.w / strongest : 0;
    // No rule had weight (every neighbour's similarity 0): nothing to add, and no 0 / 0.
    for (const [sku, v] of seqTop > 0 && lead > 0 ? seq : []) {
      const add = (o.sequenceWeight * lead * top * v) / seqTop;
      const c = scores.get(sku);
      if (c === undefined) scores.set(sku, { score: add, seen: -1, voters: 0 });
      else c.score += add;
    }
  }
  if (o.reminder > 0) {
    for (const [sku, it] of p.items) {
      const distance = p.length - it.pos;
      const decayed = distance === 0 ? o.reminderLast : Math.max(o.reminderFloor, at(o.reminderTable, distance));
      const boost = o.reminder * top * decayed;
      const c = scores.get(sku);
      if (c === undefined) scores.set(sku, { score: boost, seen: -1, voters: 0 });
      else c.score += boost;
    }
  }
  return scores;
}

function strongestKind(items: string[], kinds: number[], sku: string, o: ResolvedOptions): number {
  let w = 0;
  for (let j = 0; j < items.length; j++) {
    if (items[j] === sku) {
      const k = o.kindWeights[kinds[j]] ?? 1;
      if (k > w) w = k;
    }
  }
  return w;
}
