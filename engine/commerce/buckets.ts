// Counting news into per-minute and per-hour buckets of placing time (engine/windows/), the
// oldest beyond 24 h pruned as news arrives.

import type { StateView } from '../types.ts';
import { collectingState, countInBuckets, KEPT_MINUTES, MINUTE_MS } from '../windows/mod.ts';
import { C, COUNTERS, LEVELS, NEWS_KINDS, keys, type Bucket, type CommerceCounted, type GroupRow } from './types.ts';

/** What to add to an order's counters for one news. */
function increments(news: CommerceCounted): Array<[index: number, by: number]> {
  switch (news.kind) {
    case 'placed': {
      const add: Array<[number, number]> = [[C.orders, 1]];
      if (news.pickup) add.push([C.pickup, 1]);
      if (typeof news.revenue === 'number' && Number.isFinite(news.revenue)) add.push([C.priced, 1], [C.revenue, news.revenue]);
      return add;
    }
    case 'cancelled':
      return [[C.cancelled, 1]];
    case 'expired':
      return [[C.expired, 1]];
    case 'fulfilled':
      return [[C.fulfilled, 1]];
    case 'returned':
      return [[C.returned, 1]];
    case 'cross':
      return [[C.cross, 1]];
  }
}

/** `rows` with the row of `key` increased, copied: values read from the view are never changed in place. */
function bumped(rows: readonly GroupRow[], key: string, add: ReadonlyArray<[number, number]>): GroupRow[] {
  const out = rows.slice();
  let i = out.findIndex((r) => r.key === key);
  if (i < 0) {
    i = out.length;
    out.push({ key, n: new Array<number>(COUNTERS).fill(0) });
  }
  const n = out[i].n.slice();
  for (const [index, by] of add) n[index] += by;
  out[i] = { key, n };
  return out;
}

/** `bucket` (or a new one) with one news counted for the order's channel and its location. */
export function counted(bucket: Bucket | undefined, news: CommerceCounted): Bucket {
  const add = increments(news);
  return {
    channel: bumped(bucket?.channel ?? [], news.channel, add),
    location: bumped(bucket?.location ?? [], news.location, add),
  };
}

/**
 * The writes that count one news at clock `now`: buckets wholly older than the kept range
 * deleted, the news counted in its placing minute's bucket and its hour's unless it is not
 * countable (engine/windows/ isCountable), and the newest news time noted as the state topic's
 * window end.
 */
export function countNews(view: StateView, news: CommerceCounted, now: number): Array<[string, unknown]> {
  const writes: Array<[string, unknown]> = [];
  const known = (NEWS_KINDS as readonly string[]).includes(news.kind);
  countInBuckets<Bucket>(collectingState(view, writes), LEVELS, known ? news.placedAt : undefined, now, (bucket) => counted(bucket, news));
  // The topic's window ends at the newest news time, not at the batch clock: two runs of the same
  // events must store the same state however they were batched. Far-future times are ignored.
  const asOf = view.get<number>(keys.asOf);
  if (Number.isFinite(news.at) && news.at < now + KEPT_MINUTES * MINUTE_MS && (asOf === undefined || news.at > asOf)) writes.push([keys.asOf, news.at]);
  return writes;
}
