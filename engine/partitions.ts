// Events are ordered per partition, chosen by the key their processor names (SKU, customer,
// queue). Each partition counts the events it has applied: its checkpoint, committed with the
// state. In one process all partitions share one LMDB transaction; when partitions move to
// processes fed by NATS JetStream, the checkpoint becomes the stream sequence to resume after.

import type { StateStore, WriteSet } from './store.ts';

const checkpointKey = (p: number) => `$ckpt/${p}`;

/** FNV-1a: stable across processes and versions, unlike any built-in hash. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Partitions {
  private readonly offsets: number[];
  private readonly touched = new Set<number>();

  constructor(
    private readonly store: StateStore,
    readonly count: number,
  ) {
    this.offsets = Array.from({ length: count }, (_, p) => store.durable.get<number>(checkpointKey(p)) ?? 0);
  }

  of(key: string): number {
    return hashKey(key) % this.count;
  }

  /** Records one applied event of partition `p`; returns its offset. */
  advance(p: number): number {
    this.touched.add(p);
    return ++this.offsets[p];
  }

  checkpoint(p: number): number {
    return this.offsets[p];
  }

  /** Writes the checkpoints of the partitions this batch advanced. */
  flush(set: WriteSet): void {
    for (const p of this.touched) this.store.write(set, checkpointKey(p), this.offsets[p]);
    this.touched.clear();
  }
}
