// Event-time popularity: each activity adds weight·2^(t/halfLife), kept as a log so it never
// overflows. Every score is referenced to time 0 rather than "now", so scores never need decaying
// as time passes and only the clicked item's score changes: the top list is exact, needs no clock
// (a replay ranks as the live run did), and is rewritten only when the clicked item changes place
// in it or enters it.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import { readHead } from './item-index.ts';
import type { ResolvedOptions } from './options.ts';
import { recKeys, type PopularRecord } from './records.ts';

/** ln(e^a + e^b), with `undefined` as the empty sum. */
function logAdd(a: number | undefined, b: number): number {
  if (a === undefined) return b;
  const hi = a > b ? a : b;
  return hi + Math.log1p(Math.exp(-Math.abs(a - b)));
}

export function addActivity(prev: number | undefined, weight: number, time: number, o: ResolvedOptions): number {
  return logAdd(prev, Math.log(weight) + (time * Math.LN2) / o.popularityHalfLifeMs);
}

export function readPopular(state: StateView): PopularRecord | undefined {
  return state.get<PopularRecord>(recKeys.popular);
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
  const prev = readPopular(state)?.i ?? [];
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
  state.put(recKeys.popular, { i } satisfies PopularRecord);
}
