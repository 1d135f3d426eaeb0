// This node's copies of the partitions it does not own: each fed from its partition's changelog
// into the engine (applyChanges), so that reads, snapshots and pushes of every partition are
// served here, and a takeover starts from a warm copy. The highest lease epoch a copy has seen
// is kept with it (`$clepoch/<p>`, written with the changes), so a copy resuming after a restart
// still drops what a fenced-off owner appended.

import type { ChangelogReader } from './changelog.ts';
import { ChangelogReader as Reader, type ReadChange } from './changelog.ts';
import type { ClusterConnection } from './connection.ts';
import type { EventLog } from './event-log.ts';
import type { NodeEngine, PartitionChange } from './node-engine.ts';

export const copyEpochKey = (p: number) => `$clepoch/${p}`;

interface Copy {
  reader: ChangelogReader<PartitionChange>;
  /** The last changelog sequence applied. */
  last: number;
  waiters: Array<{ seq: number; resolve: () => void }>;
  failed?: unknown;
}

export class PartitionCopies {
  private readonly copies = new Map<number, Copy>();

  constructor(
    private readonly conn: ClusterConnection,
    private readonly changelog: EventLog,
    private readonly engine: NodeEngine,
    private readonly nodeId: string,
    private readonly onError: (partition: number, error: unknown) => void = () => {},
  ) {}

  has(p: number): boolean {
    return this.copies.has(p);
  }

  /** Starts following partition `p`'s changelog from the engine's position. */
  follow(p: number): void {
    if (this.copies.has(p)) return;
    const after = this.engine.changelogPosition(p);
    const copy: Copy = { last: after, waiters: [], reader: undefined as unknown as ChangelogReader<PartitionChange> };
    copy.reader = new Reader<PartitionChange>(this.conn, this.changelog, {
      partition: p,
      after,
      epoch: this.engine.read<number>(copyEpochKey(p)) ?? 0,
      nodeId: this.nodeId,
      onChanges: (changes, last) => this.apply(p, copy, changes, last),
    });
    copy.reader.done.catch((error: unknown) => this.onError(p, error));
    this.copies.set(p, copy);
  }

  /** Resolves once the copy of `p` has applied everything up to `seq` (a takeover's fence). */
  caughtUp(p: number, seq: number): Promise<void> {
    const copy = this.copies.get(p);
    if (!copy || copy.last >= seq) return Promise.resolve();
    return new Promise((resolve) => copy.waiters.push({ seq, resolve }));
  }

  /** Stops following `p` (it is this node's now), after the batch being applied. */
  async stop(p: number): Promise<void> {
    const copy = this.copies.get(p);
    if (!copy) return;
    this.copies.delete(p);
    await copy.reader.stop();
    for (const w of copy.waiters.splice(0)) w.resolve();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.copies.keys()].map((p) => this.stop(p)));
  }

  private async apply(p: number, copy: Copy, changes: Array<ReadChange<PartitionChange>>, last: { seq: number; epoch: number }): Promise<void> {
    // The epoch goes with the last entry (a change, or a fence or a dropped entry turned into one
    // that writes only it), so the position passes fences too.
    const entries = changes.map((c) => ({ seq: c.seq, change: c.change }));
    const epochWrite: [db: 'state', key: string, value: unknown] = ['state', copyEpochKey(p), last.epoch];
    const tail = entries.at(-1);
    if (tail !== undefined && tail.seq === last.seq) tail.change = { ...tail.change, writes: [...tail.change.writes, epochWrite] };
    else entries.push({ seq: last.seq, change: { partition: p, writes: [epochWrite], outputs: [] } });
    await this.engine.applyChanges(p, entries);
    copy.last = last.seq;
    for (let i = copy.waiters.length - 1; i >= 0; i--) {
      if (copy.waiters[i].seq <= copy.last) copy.waiters.splice(i, 1)[0].resolve();
    }
  }
}
