// From buckets to figures: the orders placed in a window, summed per group and in total, and the
// ratios a retailer reads off them.

import type { StateView } from '../types.ts';
import { minuteOf } from './buckets.ts';
import { C, COUNTERS, HOURS, MINUTES, type Bucket, type BucketLevel, type CommerceStats, type Dimension, type Figures } from './types.ts';
import type { StatsRequest } from './window.ts';

/**
 * The figures of the orders placed in the `request.minutes` whole minutes ending with the one
 * `end` (clock ms) falls in: a window reaches back one minute at a time, the current minute
 * included. Whole hours inside it are read from hour buckets, the minutes at its ends from minute
 * buckets. Groups are ordered by key.
 */
export function statsAt(view: StateView, request: StatsRequest, end: number): CommerceStats {
  const last = minuteOf(end);
  const first = last - request.minutes + 1;
  const sums = new Map<string, number[]>();
  const add = (level: BucketLevel, from: number, to: number) => addBuckets(view, level, from, to, request.by, sums);
  // Hours [firstHour, endHour) lie wholly inside the window.
  const firstHour = Math.ceil(first / 60);
  const endHour = Math.floor((last + 1) / 60);
  if (firstHour < endHour) {
    add(MINUTES, first, firstHour * 60 - 1);
    add(HOURS, firstHour, endHour - 1);
    add(MINUTES, endHour * 60, last);
  } else {
    add(MINUTES, first, last);
  }
  const total = new Array<number>(COUNTERS).fill(0);
  const groups: CommerceStats['groups'] = [];
  for (const key of [...sums.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const n = sums.get(key)!;
    for (let i = 0; i < COUNTERS; i++) total[i] += n[i];
    groups.push({ key, ...figuresOf(n) });
  }
  return { window: request.window, by: request.by, groups, total: figuresOf(total) };
}

/** Adds the rows of dimension `by` of the buckets of `level` with slots from..to (inclusive) to `sums`. */
function addBuckets(view: StateView, level: BucketLevel, from: number, to: number, by: Dimension, sums: Map<string, number[]>): void {
  if (from > to) return;
  for (const slot of view.get<number[]>(level.list) ?? []) {
    if (slot < from) continue;
    if (slot > to) break;
    for (const row of view.get<Bucket>(level.bucket(slot))?.[by] ?? []) {
      let sum = sums.get(row.key);
      if (sum === undefined) sums.set(row.key, (sum = new Array<number>(COUNTERS).fill(0)));
      for (let i = 0; i < COUNTERS; i++) sum[i] += row.n[i] ?? 0;
    }
  }
}

export function figuresOf(n: readonly number[]): Figures {
  return {
    orders: n[C.orders],
    revenue: n[C.revenue],
    aov: n[C.priced] === 0 ? null : n[C.revenue] / n[C.priced],
    pickupShare: ratio(n[C.pickup], n[C.orders]),
    cancelRate: ratio(n[C.cancelled], n[C.orders]),
    expiredRate: ratio(n[C.expired], n[C.pickup]),
    returnRate: ratio(n[C.returned], n[C.fulfilled]),
    crossChannel: ratio(n[C.cross], n[C.orders]),
  };
}

/**
 * part ÷ whole, null when nothing was counted. Kept in 0..1: news for an order whose placing was
 * not counted (a placing more than a day ahead of the clock then, counted later) cannot make
 * a rate pass 1.
 */
function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.min(1, part / whole);
}
