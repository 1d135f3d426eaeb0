// The recommender's stored records. Everything is plain arrays and numbers (msgpack in LMDB), in
// parallel arrays rather than arrays of objects so the encoded records stay small, and every
// record has a fixed bound so an update never rewrites anything large.

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

/** The most popular items, best first; their scores are their heads' `l`. */
export interface PopularRecord {
  i: string[];
}

export const recKeys = {
  session: (session: string) => `rec/s/${session}`,
  item: (sku: string) => `rec/i/${sku}`,
  /** An item's older full chunk; the slot leads so that no SKU (which may hold '/') can make it another's key. */
  chunk: (sku: string, slot: number) => `rec/c/${slot}/${sku}`,
  popular: 'rec/pop',
} as const;
