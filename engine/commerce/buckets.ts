// Counting news into per-minute buckets of placing time, the oldest beyond 24 h pruned as news
// arrives. The kept range follows the clock (the same clock a query's window ends at), not the
// newest event time: one event stamped far in the future must not push every real order out.

import type { StateView } from '../types.ts';
import { C, COUNTERS, KEPT_MINUTES, MINUTE_MS, NEWS_KINDS, keys, type Bucket, type CommerceCounted, type GroupRow } from './types.ts';

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
 * The writes that count one news at clock `now`: buckets older than the kept range deleted, the
 * news counted in its placing minute's bucket unless it is not countable (isCountable), the
 * minute list kept in step, and the clock noted as the state topic's window end.
 */
export function countNews(view: StateView, news: CommerceCounted, now: number): Array<[string, unknown]> {
  const writes: Array<[string, unknown]> = [];
  const stored = view.get<number[]>(keys.minutes) ?? [];
  const oldest = oldestKept(now);
  let cut = 0;
  while (cut < stored.length && stored[cut] < oldest) writes.push([keys.bucket(stored[cut++]), undefined]);
  let minutes = cut > 0 ? stored.slice(cut) : stored;

  if ((NEWS_KINDS as readonly string[]).includes(news.kind) && isCountable(news.placedAt, now)) {
    const minute = minuteOf(news.placedAt);
    const key = keys.bucket(minute);
    const bucket = view.get<Bucket>(key);
    if (bucket === undefined) minutes = withMinute(minutes, minute);
    writes.push([key, counted(bucket, news)]);
  }
  if (minutes !== stored) writes.push([keys.minutes, minutes]);
  writes.push([keys.asOf, now]);
  return writes;
}

/** A copy of ascending `minutes` with `minute` in its place (news mostly lands in the newest minute: searched from the end). */
function withMinute(minutes: readonly number[], minute: number): number[] {
  let at = minutes.length;
  while (at > 0 && minutes[at - 1] > minute) at--;
  if (minutes[at - 1] === minute) return minutes.slice();
  return [...minutes.slice(0, at), minute, ...minutes.slice(at)];
}
