// Durable sliding windows of up to 24 h: per-minute and per-hour buckets in state, for the
// figures of any domain (commerce, service).
export { bucketLevels, bucketsInWindow, collectingState, countInBuckets, countInKeptBuckets, isCountable, KEPT_MINUTES, MINUTE_MS, minuteOf } from './buckets.ts';
export type { BucketLevel } from './buckets.ts';
export { DEFAULT_WINDOW, windowAndDimension } from './window.ts';
