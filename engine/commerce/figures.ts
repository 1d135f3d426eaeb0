// From buckets to figures: the orders placed in a window, summed per group and in total, and the
// ratios a retailer reads off them.

import type { StateView } from '../types.ts';
import { bucketsInWindow } from '../windows/mod.ts';
import { C, COUNTERS, LEVELS, type Bucket, type CommerceStats, type Figures } from './types.ts';
import type { StatsRequest } from './window.ts';

/**
 * The figures of the orders placed in the `request.minutes` whole minutes ending with the one
 * `end` (clock ms) falls in (engine/windows/ bucketsInWindow). Groups are ordered by key.
 */
export function statsAt(view: StateView, request: StatsRequest, end: number): CommerceStats {
  const sums = new Map<string, number[]>();
  for (const bucket of bucketsInWindow<Bucket>(view, LEVELS, end, request.minutes)) {
    for (const row of bucket[request.by] ?? []) {
      let sum = sums.get(row.key);
      if (sum === undefined) sums.set(row.key, (sum = new Array<number>(COUNTERS).fill(0)));
      for (let i = 0; i < COUNTERS; i++) sum[i] += row.n[i] ?? 0;
    }
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
