// The commerce figures' vocabulary: the news the order partitions send (commerce.counted), and
// the per-minute buckets it is counted into, as stored under their keys.

import type { InputEvent } from '../types.ts';
import { bucketLevels } from '../windows/mod.ts';

/** Every commerce.counted is applied on this key's partition, and its figures are this state topic. */
export const COMMERCE_PARTITION = 'stats/commerce';
export const COMMERCE_TOPIC = 'stats/commerce';

export { KEPT_MINUTES } from '../windows/mod.ts';

export const NEWS_KINDS = ['placed', 'cancelled', 'expired', 'fulfilled', 'returned', 'cross'] as const;
export type NewsKind = (typeof NEWS_KINDS)[number];

/**
 * News of one order, emitted by the order's partition at most once per (order, kind). Every
 * news of an order carries the same placedAt, channel, location and pickup: it is counted in the
 * bucket and groups the order was placed in, so a window counts the orders placed in it.
 */
export interface CommerceCounted extends InputEvent {
  type: 'commerce.counted';
  order: string;
  kind: NewsKind;
  /** Event time of the order's placing. */
  placedAt: number;
  /** The placing channel, `unknown` when none was given. */
  channel: string;
  /** The pickup store, else the first allocation line's location. */
  location: string;
  pickup: boolean;
  /** Only on `placed`, when every line had a price: Σ price × qty in minor units. */
  revenue?: number;
  /** Event time of this news. */
  at: number;
}

/**
 * Counters of one group in one bucket, a fixed-order number array (small to store, no object keys
 * from the wire): each counts orders, except `revenue`.
 */
export const C = {
  orders: 0,
  /** Orders placed with a price on every line: the divisor of the average order value. */
  priced: 1,
  revenue: 2,
  pickup: 3,
  cancelled: 4,
  expired: 5,
  /** Shipped or completed (picked up). */
  fulfilled: 6,
  /** With at least one return. */
  returned: 7,
  /** Picked up or returned in another channel or location than placed in. */
  cross: 8,
} as const;
export const COUNTERS = 9;

export type Dimension = 'channel' | 'location';
export const DIMENSIONS: readonly Dimension[] = ['channel', 'location'];

export interface GroupRow {
  key: string;
  n: number[];
}

/** The orders placed in one minute (or hour), grouped by channel and, separately, by location. */
export interface Bucket {
  channel: GroupRow[];
  location: GroupRow[];
}

/** Per-minute and per-hour buckets of placing time (engine/windows/). */
export const LEVELS = bucketLevels('commerce');

export const keys = {
  /** The minutes (epoch ms ÷ 60000) that have a bucket, ascending. */
  minutes: LEVELS[0].list,
  bucket: LEVELS[0].bucket,
  /** The hours (minute ÷ 60) that have a bucket, ascending: a long window reads these. */
  hours: LEVELS[1].list,
  hourBucket: LEVELS[1].bucket,
  /** The clock at the last news applied: the end of the state topic's window. */
  asOf: 'commerce/asof',
};

/** One group's figures (`key` absent on the total). Ratios are 0..1, null where the divisor is 0. */
export interface Figures {
  orders: number;
  revenue: number;
  aov: number | null;
  pickupShare: number | null;
  cancelRate: number | null;
  expiredRate: number | null;
  returnRate: number | null;
  crossChannel: number | null;
}

export interface CommerceStats {
  window: string;
  by: Dimension;
  groups: Array<{ key: string } & Figures>;
  total: Figures;
}
