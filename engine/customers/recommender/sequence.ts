// Sequential rules (SR, Ludewig et al.) over the neighbourhood: what the neighbour sessions
// clicked right after the current session's last item, weighted 1/distance in clicks. The
// neighbours already had to be read for the k-NN vote, so this needs no table of its own (a
// store-wide item→next-item table would be written on the previous item's partition, not the
// clicked one's) and no extra reads.

import type { SessionRecord } from './records.ts';

/**
 * For each occurrence of `last` in each session, the items up to `window` clicks after it score
 * 1/distance, times the session's weight (`sim`); an item counts once per session (its nearest
 * occurrence after `last`).
 */
export function sequenceScores(last: string, sessions: ReadonlyArray<{ items: SessionRecord; sim: number }>, window: number): Map<string, number> {
  const scores = new Map<string, number>();
  // This session's items so far and their best weights: a few, so arrays beat a map.
  const skus: string[] = [];
  const best: number[] = [];
  for (const { items, sim } of sessions) {
    const s = items.i;
    skus.length = 0;
    best.length = 0;
    for (let j = s.indexOf(last); j >= 0; j = s.indexOf(last, j + 1)) {
      for (let d = 1; d <= window && j + d < s.length; d++) {
        const sku = s[j + d];
        if (sku === last) break;
        const k = skus.indexOf(sku);
        if (k < 0) {
          skus.push(sku);
          best.push(1 / d);
        } else if (best[k] < 1 / d) best[k] = 1 / d;
      }
    }
    for (let k = 0; k < skus.length; k++) scores.set(skus[k], (scores.get(skus[k]) ?? 0) + best[k] * sim);
  }
  return scores;
}
