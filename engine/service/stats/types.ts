// The service figures' vocabulary: per-minute and per-hour buckets (engine/windows/) for each
// dimension a caller may cut them by, each holding one row per group with counters and two
// latency histograms; the small per-request and per-customer records counting needs.

import { bucketLevels, type BucketLevel } from '../../windows/mod.ts';

/** Every figure is applied on the service partition, and this state topic renders them. */
export const SERVICE_STATS_TOPIC = 'stats/service';

export type Dimension = 'topic' | 'channel' | 'agent';
export const DIMENSIONS: readonly Dimension[] = ['topic', 'channel', 'agent'];
export const DEFAULT_BY: Dimension = 'topic';

/** Counters of one group in one bucket, a fixed-order number array (no object keys from the wire). */
export const N = {
  requests: 0,
  ended: 1,
  /** Ended before any first response. */
  abandoned: 2,
  /** Requests the bot answered (counted at its first answer). */
  botAnswered: 3,
  /** Of those, resolved by the bot (counted back into the bucket of the bot's first answer). */
  contained: 4,
  /** Ended requests whose customer raised the same topic again within 72 h (counted back into the bucket of the end). */
  repeats: 5,
  ratings: 6,
  /** Ratings of 4 or 5. */
  satisfied: 7,
} as const;
export const COUNTERS = 8;

/**
 * One group's counts in one bucket. `fr` (first-response ms) and `ht` (handle ms) are sparse
 * histograms: ascending [bin, count, bin, count, …] over histogram.ts's fixed bins.
 */
export interface Row {
  key: string;
  n: number[];
  fr: number[];
  ht: number[];
}

/** What one count adds to a row. */
export interface Increment {
  n?: ReadonlyArray<[index: number, by: number]>;
  /** A first-response time, ms. */
  fr?: number;
  /** A handle time, ms. */
  ht?: number;
}

/**
 * Each dimension's groups are spread over shards by a hash of their key, each shard with buckets
 * of its own (`svc/fig/<dimension>/<shard>/…`): counting one group rewrites one shard's bucket,
 * not a row for every agent there is. Every rewrite copies, checks and encodes the whole bucket,
 * so agents get 64 shards: with 5,000 agents online a completion rewrote two buckets of ~310 rows
 * (12 KB) at 16. A read visits every shard (a query by agent: 64 × the window's buckets).
 * Raising a count only adds shards: a group counted under a smaller count is still read and
 * pruned in its old shard, and rows of one key are summed across shards.
 */
export const SHARDS: Readonly<Record<Dimension, number>> = { topic: 4, channel: 1, agent: 64 };

export const LEVELS: Readonly<Record<Dimension, ReadonlyArray<readonly [BucketLevel, BucketLevel]>>> = {
  topic: shardLevels('topic'),
  channel: shardLevels('channel'),
  agent: shardLevels('agent'),
};

function shardLevels(dim: Dimension): Array<readonly [BucketLevel, BucketLevel]> {
  return Array.from({ length: SHARDS[dim] }, (_, shard) => bucketLevels(`svc/fig/${dim}/${shard}`));
}

/** The shard of a group's key (FNV-1a): the same key always in the same shard. */
export function shardOf(dim: Dimension, key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARDS[dim];
}

/** What an open request's figures need at its end; deleted then (or with the customer's erasure). */
export interface RequestFigures {
  requestedAt: number;
  firstResponseAt?: number;
  botAnsweredAt?: number;
}

/**
 * When a customer's request on a topic last ended, for first-contact resolution: a new request
 * on that topic within REPEAT_MS counts a repeat against it. No more than one per topic.
 */
export interface LastEnd {
  topic: string;
  endedAt: number;
  channel: string;
  agent?: string;
}

export const REPEAT_MS = 72 * 3_600_000;
/** Topics remembered per customer: the most recently ended. */
export const LAST_ENDS_KEPT = 20;

export const figureKeys = {
  request: (id: string) => `svc/fig/req/${id}`,
  lastEnds: (customer: string) => `svc/fig/last/${customer}`,
  /** The clock of the last change counted: the end of the state topic's window. */
  asOf: 'svc/fig/asof',
};

/** One group's figures (`key` absent on the total). Ratios are 0..1, null where nothing was counted. */
export interface ServiceFigures {
  requests: number;
  firstResponseMs: { p50: number | null; p90: number | null };
  handleMs: { p50: number | null };
  containment: number | null;
  fcr: number | null;
  abandonment: number | null;
  csat: number | null;
  ratings: number;
}

export interface ServiceStats {
  window: string;
  by: Dimension;
  groups: Array<{ key: string } & ServiceFigures>;
  total: ServiceFigures;
}
