// Events are ordered per partition, chosen by the key their processor names (SKU, customer,
// queue). Each partition counts the events it has applied: its checkpoint, committed with the
// state. In one process all partitions share one LMDB transaction; when partitions move to
// processes fed by NATS JetStream, the checkpoint becomes the stream sequence to resume after.
//
// The count is fixed when a data dir is first opened: a key's partition is its hash modulo the
// count, so another count would move keys to partitions whose checkpoints describe other events.

import { PartitionCountMismatchError } from './errors.ts';
import type { Item } from './items.ts';
import { LogPositions } from './log-positions.ts';
import type { StateStore, WriteSet } from './store.ts';
import type { EngineLayout, EngineStats } from './types.ts';

export const checkpointKey = (p: number) => `$ckpt/${p}`;
/** Where the data dir keeps its partition count. */
export const PARTITIONS_KEY = '$partitions';
export const DEFAULT_PARTITIONS = 32;
export const MAX_PARTITIONS = 1024;
/** What data dirs made before the count was stored (they have an `$epoch` only) were opened with. */
export const LEGACY_PARTITIONS = 16;

/** FNV-1a: stable across processes and versions, unlike any built-in hash. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The partition of a key among `count`: the one mapping the engine routes by. */
export function partitionOf(key: string, count: number): number {
  return hashKey(key) % count;
}

/**
 * The partition count to open the data dir with: the stored one, else (a dir from before it was
 * stored) 16, else — a new dir — the one asked for or 32. Reads only; throws
 * PartitionCountMismatchError when one was asked for and the dir keeps another.
 */
export function partitionCount(store: StateStore, dir: string, requested: number | undefined): number {
  if (requested !== undefined && !(Number.isInteger(requested) && requested >= 1 && requested <= MAX_PARTITIONS)) {
    throw new RangeError(`partitions must be an integer from 1 to ${MAX_PARTITIONS} (got ${requested})`);
  }
  // From LMDB, not the committed view: caching the absent key would hide the count written at start.
  const stored = (store.state.get(PARTITIONS_KEY) as number | undefined) ?? (store.state.get('$epoch') ? LEGACY_PARTITIONS : undefined);
  if (stored === undefined) return requested ?? DEFAULT_PARTITIONS;
  if (requested !== undefined && requested !== stored) throw new PartitionCountMismatchError(dir, stored, requested);
  return stored;
}

export class Partitions {
  private readonly offsets: number[];
  private readonly touched = new Set<number>();
  /** Milliseconds spent applying each partition's events since this process opened the dir. */
  private readonly applyMs: Float64Array;
  /** How far into its log each partition fed from one has applied (log-positions.ts). */
  readonly logs: LogPositions;

  constructor(
    private readonly store: StateStore,
    readonly count: number,
  ) {
    this.logs = new LogPositions(store, count);
    this.offsets = Array.from({ length: count }, (_, p) => store.durable.get<number>(checkpointKey(p)) ?? 0);
    this.applyMs = new Float64Array(count);
  }

  of(key: string): number {
    return partitionOf(key, this.count);
  }

  /** Records one applied event of partition `p`, which took `ms` to apply; returns its offset. */
  advance(p: number, ms: number): number {
    this.touched.add(p);
    this.applyMs[p] += ms;
    return ++this.offsets[p];
  }

  checkpoint(p: number): number {
    return this.offsets[p];
  }

  /** Partition p's checkpoint and log position as its latest state holds them: written by its owner's changelog while it was applied elsewhere (changelog.ts). */
  reload(p: number): void {
    this.offsets[p] = this.store.latest.get<number>(checkpointKey(p)) ?? 0;
    this.logs.reload(p);
  }

  applySeconds(p: number): number {
    return this.applyMs[p] / 1000;
  }

  /** Every partition's figures (EngineStats.partitions), its queued events counted in `queue`. */
  stats(queue: readonly Item[]): EngineStats['partitions'] {
    const queued = new Array<number>(this.count).fill(0);
    for (const item of queue) if (item.kind === 'event' || item.kind === 'derived') queued[item.partition]++;
    return queued.map((n, p) => ({ partition: p, queued: n, applySeconds: this.applySeconds(p), checkpoint: this.checkpoint(p) }));
  }

  /** Worker `worker` applying the partitions `owns` names (Engine.layout). */
  layout(worker: number, owns: (p: number) => boolean): EngineLayout {
    const owned = Array.from({ length: this.count }, (_, p) => p).filter(owns);
    return { partitions: this.count, workers: [{ worker, partitions: owned }] };
  }

  /** Writes the checkpoints (and log positions) of the partitions this batch advanced. */
  flush(set: WriteSet): void {
    for (const p of this.touched) this.store.write(set, checkpointKey(p), this.offsets[p]);
    this.touched.clear();
    this.logs.flush(set);
  }
}
