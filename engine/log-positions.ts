// A partition fed from an event log (the cluster's stream, one subject per partition) records
// how far into its log it has applied: `$log/<p>`, the highest log sequence applied, written in
// the same LMDB transaction as the state those entries produced (as `$ckpt/<p>` is). After a
// crash the position and the state agree, so a reader resuming at position + 1 applies every
// entry exactly once; an entry delivered again at or below the position is answered, never
// applied (Intake.acceptLogged). This holds even once the dedup index has forgotten its id.
// Entries are applied in log order with the partition's other work, never cut as a submission is
// (submission-cut.ts): the log's writer ordered them already.

import type { StateStore, WriteSet } from './store.ts';
import type { LoggedDerived } from './types.ts';

export const logKey = (p: number) => `$log/${p}`;

/** One entry of a partition's log: the event appended at stream sequence `seq`. */
export interface LoggedEvent {
  seq: number;
  event: unknown;
}

/** A sent event, or a derived event another node emitted for this partition (remote-partitions.ts). */
export type LogEntry = LoggedEvent | LoggedDerived;

/**
 * Why a `submitLogged` call is refused whole, before anything of it is taken, or null: a
 * partition out of range or not applied here, or entries that are not in ascending seq order.
 */
export function loggedCallProblem(partition: unknown, entries: unknown, count: number, owns: (p: number) => boolean): RangeError | null {
  if (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= count) {
    return new RangeError(`partition must be an integer from 0 to ${count - 1} (got ${String(partition)})`);
  }
  if (!owns(partition as number)) return new RangeError(`partition ${String(partition)} is applied by another engine thread`);
  if (!Array.isArray(entries)) return new RangeError('log entries must be an array');
  let previous = 0;
  for (let i = 0; i < entries.length; i++) {
    const seq = (entries[i] as LogEntry | null)?.seq;
    if (!Number.isSafeInteger(seq) || (seq as number) <= previous) {
      return new RangeError(`log entry ${i}: seq must be an integer above ${previous} (the previous entry's, or 0); got ${String(seq)}`);
    }
    previous = seq as number;
  }
  return null;
}

export class LogPositions {
  /** Each partition's highest seq applied in this process, committed or not. */
  private readonly applied: number[];
  private readonly touched = new Set<number>();

  constructor(
    private readonly store: StateStore,
    count: number,
  ) {
    this.applied = Array.from({ length: count }, (_, p) => store.durable.get<number>(logKey(p)) ?? 0);
  }

  /** The durable position: entries up to it are applied and committed (0: none ever). */
  committed(p: number): number {
    return this.store.durable.get<number>(logKey(p)) ?? 0;
  }

  /** An entry at `seq` of partition `p`'s log is applied (or answered) in the batch being built. */
  advance(p: number, seq: number): void {
    // A re-delivery joined to its twin in flight may come after a later entry: never backwards.
    if (seq <= this.applied[p]) return;
    this.applied[p] = seq;
    this.touched.add(p);
  }

  reload(p: number): void {
    this.applied[p] = this.store.latest.get<number>(logKey(p)) ?? 0;
  }

  /** Writes the positions the batch moved, into its transaction. */
  flush(set: WriteSet): void {
    for (const p of this.touched) this.store.write(set, logKey(p), this.applied[p]);
    this.touched.clear();
  }
}
