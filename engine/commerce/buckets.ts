// Counting news into per-minute and per-hour buckets of placing time, the oldest beyond 24 h
// pruned as news arrives. The kept range follows the clock (the same clock a query's window ends
// at), not the newest event time: one event stamped far in the future must not push every real
// order out.

import type { StateView } from '../types.ts';
import { C, COUNTERS, HOURS, KEPT_MINUTES, MINUTE_MS, MINUTES, NEWS_KINDS, keys, type Bucket, type BucketLevel, type CommerceCounted, type GroupRow } from './types.ts';

/** The minute (epoch ms ÷ 60000, floored) a time falls in. */
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

/** The first minute kept at clock `now`: the 24 h ending with the current minute. */
export const oldestKept = (now: number): number => minuteOf(now) - KEPT_MINUTES + 1;

/**
 * Whether news of an order placed at `placedAt` is counted at clock `now`: not before the kept
 * range (its bucket is gone, or soon will be), and not more than 24 h ahead of the clock (a
 * sender's broken clock; counting it would keep buckets that no window reaches for a day).
 */
export function isCountable(placedAt: number, now: number): boolean {
  const minute = minuteOf(placedAt);
  return Number.isFinite(minute) && minute >= oldestKept(now) && minute < minuteOf(now) + KEPT_MINUTES;
}

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
 * countable (isCountable), the lists of buckets kept in step, and the newest news time noted as
 * the state topic's window end.
 */
export function countNews(view: StateView, news: CommerceCounted, now: number): Array<[string, unknown]> {
  const writes: Array<[string, unknown]> = [];
  const countable = (NEWS_KINDS as readonly string[]).includes(news.kind) && isCountable(news.placedAt, now);
  const minute = countable ? minuteOf(news.placedAt) : undefined;
  for (const level of [MINUTES, HOURS]) countAt(view, level, news, minute, oldestKept(now), writes);
  // The topic's window ends at the newest news time, not at the batch clock: two runs of the same
  // events must store the same state however they were batched. Far-future times are ignored.
  const asOf = view.get<number>(keys.asOf);
  if (Number.isFinite(news.at) && news.at < now + KEPT_MINUTES * 60_000 && (asOf === undefined || news.at > asOf)) writes.push([keys.asOf, news.at]);
  return writes;
}

function countAt(view: StateView, level: BucketLevel, news: CommerceCounted, minute: number | undefined, oldest: number, writes: Array<[string, unknown]>): void {
  const stored = view.get<number[]>(level.list) ?? [];
  // An hour is kept while any of its minutes is: a window never reads a slot it does not wholly hold.
  let cut = 0;
  while (cut < stored.length && (stored[cut] + 1) * level.minutes <= oldest) writes.push([level.bucket(stored[cut++]), undefined]);
  let slots = cut > 0 ? stored.slice(cut) : stored;
  if (minute !== undefined) {
    const slot = Math.floor(minute / level.minutes);
    const key = level.bucket(slot);
    const bucket = view.get<Bucket>(key);
    if (bucket === undefined) slots = withSlot(slots, slot);
    writes.push([key, counted(bucket, news)]);
  }
  if (slots !== stored) writes.push([level.list, slots]);
}

/** A copy of ascending `slots` with `slot` in its place (news mostly lands in the newest: searched from the end). */
function withSlot(slots: readonly number[], slot: number): number[] {
  let at = slots.length;
  while (at > 0 && slots[at - 1] > slot) at--;
  if (slots[at - 1] === slot) return slots.slice();
  return [...slots.slice(0, at), slot, ...slots.slice(at)];
}
