// The recommender's stored records. Everything is plain arrays and numbers (msgpack in LMDB), in
// parallel arrays rather than arrays of objects so the encoded records stay small, and every
// record has a fixed bound so an update never rewrites anything large.

import { hashKey } from '../../partitions.ts';

/** A session's latest activities, oldest first; at most `sessionKept` of them. */
export interface SessionRecord {
  /** SKUs. */
  i: string[];
  /** Kind codes (0 viewed, 1 carted, 2 purchased). */
  k: number[];
  /** Event times, epoch ms. */
  t: number[];
}

/** One chunk of an item's index: the sessions that had the item, in order of appending. */
export interface IndexChunk {
  /** Session ids. */
  s: string[];
  /** When each session first had the item, epoch ms. */
  t: number[];
}

/**
 * An item's head: its popularity, and its index's newest chunk (1..chunkSize entries) inline, so
 * the click that adds a session to the index writes one record; full chunks move out to `chunk`.
 */
export interface ItemHead extends IndexChunk {
  /** Sessions appended to the index so far; the inline chunk holds entries from ⌊(n−1)/chunkSize⌋·chunkSize. */
  n: number;
  /** ln of the item's time-weighted activity count, referenced to time 0 (see popularity.ts). */
  l: number;
}

/** The most popular items of one bucket, best first; their scores are their heads' `l`. */
export interface PopularRecord {
  i: string[];
}

/**
 * Items are split into this many buckets by a hash of the SKU, each with its own top list, so
 * that the items' records can be spread over partitions, each bucket owned by one. Fixed: a
 * bucket's list holds only its own items.
 */
export const ITEM_BUCKETS = 16;

/** The bucket of an item: the stable hash partitions use, modulo ITEM_BUCKETS. */
export function itemBucket(sku: string): number {
  return hashKey(sku) % ITEM_BUCKETS;
}

export const recKeys = {
  session: (session: string) => `rec/s/${session}`,
  item: (sku: string) => `rec/i/${sku}`,
  /** An item's older full chunk; the slot leads so that no SKU (which may hold '/') can make it another's key. */
  chunk: (sku: string, slot: number) => `rec/c/${slot}/${sku}`,
  /** A bucket's top list. */
  popular: (bucket: number) => `rec/pop/${bucket}`,
  /** The one top list of data dirs written before items had buckets: read, never written. */
  legacyPopular: 'rec/pop',
} as const;
