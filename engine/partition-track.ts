// Which partition each write of a batch belongs to, and the changes a batch makes per partition:
// what an owner hands to its changelog (changelog.ts). Kept on the batch's WriteSet while a
// replicator is set; the applier names the partition of each item it applies, and the store,
// the timers, the dedup index and the topic seqs note their writes with it.

import type { Output } from './types.ts';

/** `$`: the engine's own keys (seqs, checkpoints, positions, per-dir records), noted apart from processors' writes. */
const DOLLAR = 36;

/** What a batch writes, as the WriteSet holds it (store.ts). */
interface BatchWrites {
  state: ReadonlyMap<string, unknown>;
  timers: ReadonlyMap<string, unknown>;
  outbox: ReadonlyMap<string, unknown>;
  dedupIds: readonly string[];
  dedupAnswers: readonly unknown[];
}

export type ChangeDb = 'state' | 'timers' | 'outbox' | 'dedup';

export interface PartitionChange {
  partition: number;
  /**
   * Every write the batch made that belongs to this partition and that a copy of it needs, per
   * database: state (its `$seq` records, `$log/<p>` and `$ckpt/<p>` included), timers, outbox
   * entries of derived events it emitted, dedup answers of its events. value undefined = delete.
   */
  writes: Array<[db: ChangeDb, key: string, value: unknown]>;
  /** The outputs (topic updates and messages) the batch released for this partition, with their seqs. */
  outputs: Output[];
  /**
   * The batch erased personal data of this partition (Effects.scrub): a copy rewrites its own
   * store too, redacting kept answers that hold these values, or its files would keep what the
   * owner's no longer do.
   */
  scrub?: string[];
}

export interface Replicator {
  /**
   * Called with the changes of the local partitions a batch touched, before it commits; resolves
   * with the changelog seq of each change (same order). Rejected: called again with the same
   * changes and batchId, after 100 ms doubling to 2 s, until it resolves or the engine closes.
   */
  replicate(changes: PartitionChange[], batchId: string): Promise<number[]>;
}

/** Which partition each write of a batch belongs to: on the WriteSet while a Replicator is set. */
export class PartitionTrack {
  /** The partition of the item being applied (-1: writes of no partition's own). */
  current = -1;
  private readonly notes = new Map<number, { state: Set<string>; timers: Set<string>; dedup: Set<string> }>();
  /** The partition whose items changed (or sent to) each topic: its seq record and outputs go with it. */
  private readonly topics = new Map<string, number>();
  /** Partitions whose items asked for a store rewrite, with the values to redact. */
  private readonly scrubs = new Map<number, string[]>();

  /** A write of a processor (or of the dedup index) made while applying the current item. */
  note(db: 'state' | 'timers' | 'dedup', key: string, partition = this.current): void {
    if (partition < 0 || (db === 'state' && key.charCodeAt(0) === DOLLAR)) return;
    this.notesOf(partition)[db].add(key);
  }

  private notesOf(p: number) {
    let n = this.notes.get(p);
    if (!n) this.notes.set(p, (n = { state: new Set(), timers: new Set(), dedup: new Set() }));
    return n;
  }

  /** The current item asked for a store rewrite (Effects.scrub). */
  scrub(values: readonly string[]): void {
    if (this.current < 0) return;
    const kept = this.scrubs.get(this.current) ?? [];
    this.scrubs.set(this.current, [...kept, ...values]);
  }

  /** The current item changed state topic `topic`. */
  changed(topic: string): void {
    if (this.current >= 0 && !this.topics.has(topic)) this.topics.set(topic, this.current);
  }

  /** A seq of `topic` moved: its record `seqKey` is written with the topic's partition. */
  seq(topic: string, seqKey: string): void {
    const p = this.topics.get(topic) ?? this.current;
    if (p < 0) return;
    this.topics.set(topic, p);
    this.notesOf(p).state.add(seqKey);
  }

  /**
   * The batch's writes and outputs per partition `local` names, in partition order. Outbox entries
   * go by the partition that emitted them as long as it is on this node (`onNode`): with engine
   * threads, the one applying a derived event deletes another thread's partition's entry.
   */
  build(set: BatchWrites, outputs: readonly Output[], local: (p: number) => boolean, onNode: (p: number) => boolean): PartitionChange[] {
    this.current = -1;
    const byPartition = new Map<number, PartitionChange>();
    const change = (p: number): PartitionChange => {
      let c = byPartition.get(p);
      if (!c) byPartition.set(p, (c = { partition: p, writes: [], outputs: [] }));
      return c;
    };
    let dedup: Map<string, unknown> | undefined;
    for (const [p, n] of this.notes) {
      if (!local(p)) continue;
      const writes = change(p).writes;
      for (const key of n.state) writes.push(['state', key, set.state.get(key)]);
      for (const key of n.timers) writes.push(['timers', key, set.timers.get(key)]);
      if (n.dedup.size === 0) continue;
      // The last answer recorded for an id is the one LMDB keeps (a pending one, then its answer).
      dedup ??= new Map(set.dedupIds.map((id, i) => [id, set.dedupAnswers[i]]));
      for (const id of n.dedup) writes.push(['dedup', id, dedup.get(id)]);
    }
    // Outbox keys start with their emitting partition (outbox.ts).
    for (const [key, value] of set.outbox) {
      const p = Number(key.slice(0, key.indexOf('/')));
      if (onNode(p)) change(p).writes.push(['outbox', key, value]);
    }
    for (const [key, value] of set.state) {
      if (key.charCodeAt(0) !== DOLLAR) continue;
      const p = key.startsWith('$ckpt/') ? Number(key.slice(6)) : key.startsWith('$log/') ? Number(key.slice(5)) : -1;
      if (p >= 0 && local(p)) change(p).writes.push(['state', key, value]);
    }
    for (const o of outputs) {
      const p = this.topics.get(o.topic);
      if (p !== undefined && local(p)) change(p).outputs.push(o);
    }
    for (const [p, values] of this.scrubs) if (local(p)) change(p).scrub = values;
    return [...byPartition.values()].sort((a, b) => a.partition - b.partition);
  }
}
