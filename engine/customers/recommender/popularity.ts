// Event-time popularity: each activity adds weight·2^(t/halfLife), kept as a log so it never
// overflows. Every score is referenced to time 0 rather than "now", so scores never need decaying
// as time passes and only the clicked item's score changes: the top list is exact, needs no clock
// (a replay ranks as the live run did), and is rewritten only when the clicked item changes place
// in it or enters it. Each item bucket (records.ts) keeps its own top list; a query merges them.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import { readHead } from './item-index.ts';
import type { ResolvedOptions } from './options.ts';
import { ITEM_BUCKETS, itemBucket, recKeys, type PopularRecord } from './records.ts';

/** ln(e^a + e^b), with `undefined` as the empty sum. */
function logAdd(a: number | undefined, b: number): number {
  if (a === undefined) return b;
  const hi = a > b ? a : b;
  return hi + Math.log1p(Math.exp(-Math.abs(a - b)));
}

export function addActivity(prev: number | undefined, weight: number, time: number, o: ResolvedOptions): number {
  return logAdd(prev, Math.log(weight) + (time * Math.LN2) / o.popularityHalfLifeMs);
}

function readBucket(state: StateView, bucket: number): PopularRecord | undefined {
  return state.get<PopularRecord>(recKeys.popular(bucket));
}

/**
 * The most popular items of every bucket, best first, merged lazily (each bucket's list is in
 * order already): filling a list of n reads about ITEM_BUCKETS + n item heads, not every list.
 * A data dir's one list from before buckets counts as one more.
 */
export function* popularItems(state: StateView): Generator<{ sku: string; l: number }> {
  const lists: string[][] = [];
  for (let b = 0; b < ITEM_BUCKETS; b++) lists.push(readBucket(state, b)?.i ?? []);
  // Never rewritten since, its order went stale as scores grew: put in order once per read.
  const legacy = state.get<PopularRecord>(recKeys.legacyPopular)?.i ?? [];
  if (legacy.length > 0) {
    const scored = legacy.map((sku) => ({ sku, l: readHead(state, sku)?.l ?? -Infinity }));
    lists.push(scored.sort((a, b) => (before(a.l, a.sku, b.l, b.sku) ? -1 : 1)).map((x) => x.sku));
  }
  const at = lists.map(() => 0);
  const score = (sku: string) => readHead(state, sku)?.l ?? -Infinity;
  const fronts = lists.map((list) => (list.length > 0 ? score(list[0]) : undefined));
  const seen = new Set<string>();
  for (;;) {
    let best = -1;
    for (let j = 0; j < lists.length; j++) {
      const l = fronts[j];
      if (l === undefined) continue;
      if (best < 0 || before(l, lists[j][at[j]], fronts[best]!, lists[best][at[best]])) best = j;
    }
    if (best < 0) return;
    const sku = lists[best][at[best]];
    const l = fronts[best]!;
    at[best]++;
    fronts[best] = at[best] < lists[best].length ? score(lists[best][at[best]]) : undefined;
    // The legacy list may repeat a SKU a bucket lists now.
    if (seen.has(sku)) continue;
    seen.add(sku);
    yield { sku, l };
  }
}

/** Higher score first, then SKU, so the order is total. */
function before(l: number, sku: string, l2: number, sku2: string): boolean {
  return l > l2 || (l === l2 && sku < sku2);
}

/**
 * Moves `sku`, whose score just grew to `l`, to its place in the top list, or into it. The list
 * holds SKUs only (their scores are in the heads, read as needed) so that a click on a top item
 * that keeps its place, the common case, writes nothing. Scores only grow, so an item only moves
 * up, past the neighbours it now beats.
 */
export function updatePopular(state: StateEditor, sku: string, l: number, o: ResolvedOptions): void {
  const bucket = itemBucket(sku);
  const prev = readBucket(state, bucket)?.i ?? [];
  const beats = (j: number) => before(l, sku, readHead(state, prev[j])?.l ?? -Infinity, prev[j]);
  const at = prev.indexOf(sku);
  let to: number;
  if (at >= 0) to = at;
  else if (prev.length < o.popularKept) to = prev.length;
  else if (beats(prev.length - 1)) to = prev.length - 1;
  else return;
  while (to > 0 && beats(to - 1)) to--;
  if (to === at) return;
  const i = prev.filter((x) => x !== sku);
  i.splice(to, 0, sku);
  if (i.length > o.popularKept) i.length = o.popularKept;
  state.put(recKeys.popular(bucket), { i } satisfies PopularRecord);
}
