// The changelog: what each partition's owner committed, batch by batch, in a stream every node
// reads — the way Kafka Streams backs a state store with a changelog topic. A node that is not
// a partition's owner keeps a copy of its state by applying its changelog, so a takeover starts
// from a warm copy rather than a restore.
//
// A lease bounds who acts, not who writes: an owner stalled past its lease can still append
// after the next owner started. So every entry carries its writer's lease epoch, a new owner
// first appends a fence (an entry of its epoch with nothing in it), and readers drop every entry
// of an epoch below the highest they have seen. The order of the stream decides: an old owner's
// entry stored before the fence counts (the new owner read it before writing), one after it
// does not.

import type { EventLog } from './event-log.ts';
import { decode, encode } from './log-wire.ts';
import { PartitionReader } from './partition-reader.ts';
import type { ClusterConnection } from './connection.ts';
import type { LogRecord } from './types.ts';

/** One entry of a partition's changelog as written: the writer's epoch and what it committed (opaque here). */
export interface ChangeEntry<T = unknown> {
  epoch: number;
  /** Absent in a fence. */
  change?: T;
}

/** A change read back, with its stream sequence (what a copy records as applied). */
export interface ReadChange<T = unknown> {
  seq: number;
  epoch: number;
  change: T;
}

/** Appends an owner's changes to a partition's changelog (`log` opened with kind `changes`). */
export class ChangelogWriter {
  constructor(private readonly log: EventLog) {}

  /**
   * Appends a fence of `epoch`: every later entry of an older epoch is dropped by readers.
   * A new owner appends one before its first change. Its msgID makes a retry store it once.
   */
  async fence(partition: number, epoch: number): Promise<number> {
    const [seq] = await this.log.append(partition, [{ msgID: `fence/${partition}/${epoch}`, data: encode({ epoch } satisfies ChangeEntry) }], { supersedesUnsettled: true });
    return seq;
  }

  /** Appends one committed batch's change; `id` names the batch uniquely within the epoch (a retry reuses it). */
  async append<T>(partition: number, epoch: number, id: string, change: T): Promise<number> {
    const [seq] = await this.log.append(partition, [{ msgID: `${partition}/${epoch}/${id}`, data: encode({ epoch, change } satisfies ChangeEntry<T>) }]);
    return seq;
  }
}

/** The durable consumer node `nodeId` reads partition `partition`'s changelog through. */
export const copyConsumerName = (nodeId: string, partition: number) => `${nodeId}-cl-p${partition}`;

export interface ChangelogReaderOptions<T> {
  partition: number;
  /** The last sequence this copy applied (0: none): reading starts after it. */
  after: number;
  /** The highest epoch this copy had seen by then (0: none): entries below it are dropped. */
  epoch: number;
  /** This node's id: each node reads every partition through a consumer of its own. */
  nodeId: string;
  /** The changes that count, in order; the next batch waits for its promise. */
  onChanges: (changes: Array<ReadChange<T>>, last: { seq: number; epoch: number }) => void | Promise<void>;
}

/** Reads a partition's changelog from a copy's position, dropping what fenced-off owners wrote. */
export class ChangelogReader<T = unknown> {
  private epoch: number;
  private readonly reader: PartitionReader;

  constructor(conn: ClusterConnection, log: EventLog, private readonly opts: ChangelogReaderOptions<T>) {
    this.epoch = opts.epoch;
    this.reader = new PartitionReader(conn, log, {
      partition: opts.partition,
      after: opts.after,
      consumerName: copyConsumerName(opts.nodeId, opts.partition),
      onBatch: (batch) => this.deliver(batch),
    });
  }

  /** The highest epoch seen so far: store it with the position. */
  get highestEpoch(): number {
    return this.epoch;
  }

  get done(): Promise<void> {
    return this.reader.done;
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }

  private deliver(batch: LogRecord[]): void | Promise<void> {
    const changes: Array<ReadChange<T>> = [];
    for (const record of batch) {
      let entry: ChangeEntry<T>;
      try {
        entry = decode<ChangeEntry<T>>(record.data);
      } catch {
        continue;
      }
      if (!Number.isSafeInteger(entry?.epoch) || entry.epoch < this.epoch) continue;
      this.epoch = entry.epoch;
      if (entry.change !== undefined) changes.push({ seq: record.seq, epoch: entry.epoch, change: entry.change });
    }
    // The position moves past fences and dropped entries too: the caller records `last`.
    return this.opts.onChanges(changes, { seq: batch[batch.length - 1].seq, epoch: this.epoch });
  }
}
