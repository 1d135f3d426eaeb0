// The owner's side of the changelog: the engine hands each batch's changes of the partitions
// this node owns to `replicate` before it commits them, and commits only once they are in the
// changelog (with the sequence of each), so whatever an owner acknowledged is in every copy's
// reach. Each change goes under the partition's lease epoch.

import type { ChangelogWriter } from './changelog.ts';
import type { PartitionChange, Replicator } from './node-engine.ts';

export class ChangelogReplicator implements Replicator {
  /** The lease epoch each owned partition's changes are written under. */
  private readonly epochs = new Map<number, number>();

  constructor(private readonly writer: ChangelogWriter) {}

  /** Partition `p` is this node's under lease epoch `epoch` (after its fence is written). */
  owned(p: number, epoch: number): void {
    this.epochs.set(p, epoch);
  }

  /**
   * A batch still under way when its partition was lost is written under the epoch it was taken
   * with: stored after the next owner's fence, every copy drops it (changelog.ts).
   */
  replicate(changes: PartitionChange[], batchId: string): Promise<number[]> {
    return Promise.all(
      changes.map((change) => {
        const epoch = this.epochs.get(change.partition);
        if (epoch === undefined) return Promise.reject(new Error(`partition ${change.partition} was never owned here`));
        return this.writer.append(change.partition, epoch, batchId, change);
      }),
    );
  }
}
