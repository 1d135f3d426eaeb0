// Item scores from the neighbours (VSTAN): each neighbour votes its similarity for each of its
// items, less for items far (in clicks) from where it met the current session and less when what
// it shares with the current session was clicked long ago. The session's own items get a
// reminder lift: a shopper's next click is often one they already made.

import type { Neighbour, Profile } from './neighbours.ts';
import { decay, type ResolvedOptions } from './options.ts';

export function scoreItems(p: Profile, neighbours: Neighbour[], o: ResolvedOptions): Map<string, number> {
  const scores = new Map<string, number>();
  const pos = new Map<string, number>();
  const kind = new Map<string, number>();
  for (const nb of neighbours) {
    const s = nb.items;
    pos.clear();
    kind.clear();
    // The neighbour's latest click on anything the current session has: where the two meet.
    let meet = 0;
    for (let j = 0; j < s.i.length; j++) {
      const sku = s.i[j];
      pos.set(sku, j + 1);
      const k = o.kindWeights[s.k[j]] ?? 1;
      if (k > (kind.get(sku) ?? 0)) kind.set(sku, k);
      if (p.weight.has(sku)) meet = j + 1;
    }
    const base = nb.sim * decay(p.length - nb.match, o.matchDecay);
    for (const [sku, q] of pos) {
      const v = base * decay(Math.abs(q - meet), o.neighbourDecay) * kind.get(sku)!;
      scores.set(sku, (scores.get(sku) ?? 0) + v);
    }
  }
  if (o.reminder > 0) {
    let top = 0;
    for (const v of scores.values()) if (v > top) top = v;
    if (top === 0) top = 1;
    for (const [sku, q] of p.pos) {
      const boost = o.reminder * top * decay(p.length - q, o.reminderDecay);
      scores.set(sku, (scores.get(sku) ?? 0) + boost);
    }
  }
  return scores;
}
