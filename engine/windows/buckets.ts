// Durable sliding-window buckets: whatever a domain counts, kept per minute and per hour of the
// time it is counted at, the oldest beyond 24 h pruned as counting goes on. The kept range
// follows the clock (the clock a query's window ends at), not the newest counted time: one
// time stamped far in the future must not push every real one out.

import type { StateView } from '../types.ts';

export const MINUTE_MS = 60_000;
/** Minutes kept: the longest window a query may ask for (24 h). */
export const KEPT_MINUTES = 24 * 60;

/**
 * Buckets of one length: every count goes into its minute's bucket and its hour's, so a window
 * of hours reads one bucket per whole hour (and minutes only at its ends) instead of 60.
 */
export interface BucketLevel {
  /** The state key of the ascending list of slots that have a bucket. */
  list: string;
  bucket: (slot: number) => string;
  /** Minutes a slot spans: slot = minute ÷ this, floored. */
  minutes: number;
}

/** A minute level and an hour level under one key prefix: `<prefix>/minutes`, `<prefix>/m/<minute>`, `<prefix>/hours`, `<prefix>/h/<hour>`. */
export function bucketLevels(prefix: string): readonly [minutes: BucketLevel, hours: BucketLevel] {
  return [
    { list: `${prefix}/minutes`, bucket: (minute) => `${prefix}/m/${minute}`, minutes: 1 },
    { list: `${prefix}/hours`, bucket: (hour) => `${prefix}/h/${hour}`, minutes: 60 },
  ];
}

/** Where bucket writes go: a staged state, or a list of writes over a view. */
interface BucketState extends StateView {
  put(key: string, value: unknown): void;
}

/** A BucketState that reads `view` and collects its writes in `writes` (the view never sees them). */
export function collectingState(view: StateView, writes: Array<[string, unknown]>): BucketState {
  return { get: <T>(key: string) => view.get<T>(key), put: (key, value) => void writes.push([key, value]) };
}

/** The minute (epoch ms ÷ 60000, floored) a time falls in. */
export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);

/** The first minute kept at clock `now`: the 24 h ending with the current minute. */
const oldestKept = (now: number): number => minuteOf(now) - KEPT_MINUTES + 1;

/**
 * Whether something at time `at` is counted at clock `now`: not before the kept range (its
 * bucket is gone, or soon will be), and not more than 24 h ahead of the clock (a sender's broken
 * clock; counting it would keep buckets that no window reaches for a day).
 */
export function isCountable(at: number, now: number): boolean {
  const minute = minuteOf(at);
  return Number.isFinite(minute) && minute >= oldestKept(now) && minute < minuteOf(now) + KEPT_MINUTES;
}

/**
 * Counts into the buckets of time `at` at clock `now`: buckets wholly older than the kept range
 * deleted, the bucket of `at`'s minute and of its hour replaced by `update` of it (undefined when
 * it has none yet) unless `at` is undefined or not countable, the lists of slots kept in step.
 * `update` gets values read from state: it must return a copy, never change them.
 */
export function countInBuckets<B>(state: BucketState, levels: readonly BucketLevel[], at: number | undefined, now: number, update: (bucket: B | undefined) => B): void {
  const minute = at !== undefined && isCountable(at, now) ? minuteOf(at) : undefined;
  const oldest = oldestKept(now);
  for (const level of levels) {
    const stored = state.get<number[]>(level.list) ?? [];
    // An hour is kept while any of its minutes is: a window never reads a slot it does not wholly hold.
    let cut = 0;
    while (cut < stored.length && (stored[cut] + 1) * level.minutes <= oldest) state.put(level.bucket(stored[cut++]), undefined);
    let slots = cut > 0 ? stored.slice(cut) : stored;
    if (minute !== undefined) {
      const slot = Math.floor(minute / level.minutes);
      const bucket = state.get<B>(level.bucket(slot));
      if (bucket === undefined) slots = withSlot(slots, slot);
      state.put(level.bucket(slot), update(bucket));
    }
    if (slots !== stored) state.put(level.list, slots);
  }
}

/**
 * Counts into the buckets of an earlier time `at` only where they are still kept (a late
 * outcome of something counted then, such as a repeat contact): nothing is created, nothing
 * pruned. Returns whether the minute's bucket was there.
 */
export function countInKeptBuckets<B>(state: BucketState, levels: readonly BucketLevel[], at: number, now: number, update: (bucket: B) => B): boolean {
  if (!isCountable(at, now)) return false;
  const minute = minuteOf(at);
  let found = false;
  for (const level of levels) {
    const key = level.bucket(Math.floor(minute / level.minutes));
    const bucket = state.get<B>(key);
    if (bucket === undefined) continue;
    state.put(key, update(bucket));
    found = true;
  }
  return found;
}

/** A copy of ascending `slots` with `slot` in its place (counts mostly land in the newest: searched from the end). */
function withSlot(slots: readonly number[], slot: number): number[] {
  let at = slots.length;
  while (at > 0 && slots[at - 1] > slot) at--;
  if (slots[at - 1] === slot) return slots.slice();
  return [...slots.slice(0, at), slot, ...slots.slice(at)];
}

/**
 * The buckets of the `minutes` whole minutes ending with the one `end` (clock ms) falls in: a
 * window reaches back one minute at a time, the current minute included. Whole hours inside it
 * are read from hour buckets, the minutes at its ends from minute buckets; each minute is read
 * exactly once.
 */
export function bucketsInWindow<B>(view: StateView, levels: readonly [BucketLevel, BucketLevel], end: number, minutes: number): B[] {
  const [minuteLevel, hourLevel] = levels;
  const last = minuteOf(end);
  const first = last - minutes + 1;
  const out: B[] = [];
  const add = (level: BucketLevel, from: number, to: number) => {
    if (from > to) return;
    for (const slot of view.get<number[]>(level.list) ?? []) {
      if (slot < from) continue;
      if (slot > to) break;
      const bucket = view.get<B>(level.bucket(slot));
      if (bucket !== undefined) out.push(bucket);
    }
  };
  // Hours [firstHour, endHour) lie wholly inside the window.
  const firstHour = Math.ceil(first / 60);
  const endHour = Math.floor((last + 1) / 60);
  if (firstHour < endHour) {
    add(minuteLevel, first, firstHour * 60 - 1);
    add(hourLevel, firstHour, endHour - 1);
    add(minuteLevel, endHour * 60, last);
  } else {
    add(minuteLevel, first, last);
  }
  return out;
}
