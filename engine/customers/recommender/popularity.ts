// Event-time popularity: each activity adds weight·2^(t/halfLife), kept as a log so it never
// overflows. Every score is referenced to time 0 rather than "now", so scores never need decaying
// as time passes and only the clicked item's score changes: the top list is exact, needs no clock
// (a replay ranks as the live run did), and is rewritten only when the clicked item is or enters it.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../editor.ts';
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

/** Puts `sku`'s new score `l` into the top list if it belongs there. */
export function updatePopular(state: StateEditor, sku: string, l: number, o: ResolvedOptions): void {
  const prev = readPopular(state) ?? { i: [], l: [] };
  const at = prev.i.indexOf(sku);
  const n = prev.i.length;
  if (at < 0 && n >= o.popularKept && !before(l, sku, prev.l[n - 1], prev.i[n - 1])) return;
  const i: string[] = [];
  const ls: number[] = [];
  let placed = false;
  for (let j = 0; j < n; j++) {
    if (j === at) continue;
    if (!placed && before(l, sku, prev.l[j], prev.i[j])) {
      i.push(sku);
      ls.push(l);
      placed = true;
    }
    i.push(prev.i[j]);
    ls.push(prev.l[j]);
  }
  if (!placed) {
    i.push(sku);
    ls.push(l);
  }
  if (i.length > o.popularKept) {
    i.length = o.popularKept;
    ls.length = o.popularKept;
  }
  state.put(recKeys.popular, { i, l: ls } satisfies PopularRecord);
}
