// Copies of partitions other nodes apply, kept up to date from their owners' changelogs (as Kafka
// Streams keeps standby replicas fed by changelog topics), so a node taking a partition over has
// its state, timers, outbox and dedup answers already, and goes on from its owner's last batch.
//
// Owner side: while a Replicator is set, every write of a batch is noted with the partition of the
// item that made it (PartitionTrack, kept on the WriteSet); once the batch is applied its writes
// and outputs are grouped per local partition (PartitionChange) and handed to `replicate` BEFORE
// the batch commits. Its changelog seq per partition is written as `$cl/<p>` in the batch's own
// transaction, so after a crash `$cl/<p>` says which changelog entry the committed state is. A
// rejection is retried with backoff until it resolves or the engine closes: no batch commits (or
// answers, or releases outputs) unreplicated. Batches are replicated one after the other, in
// commit order, so each partition's changelog is in the order its batches commit.
//
// Copy side (applyChanges): a partition that is not local gets its owner's changes applied as
// a batch item: the writes into this data dir's state, timers, outbox and the dedup generation
// of the engine thread applying the partition (so a retry of an event its owner applied finds
// its first answer here after a takeover), `$cl/<p>` moved with them, and the owner's outputs
// released as it rendered them. Timers of a partition that is not local are stored but not
// queued; they are loaded when it becomes local (Engine.setRemote).

import { randomUUID } from 'node:crypto';
import { EngineClosedError } from './errors.ts';
import type { Batch, ChangesItem, Item } from './items.ts';
import type { Partitions } from './partitions.ts';
import type { TimerQueue } from './timers.ts';
import { PartitionTrack, type PartitionChange, type Replicator } from './partition-track.ts';
import { MAX_KEY_CHARS, type StateStore, type TimerRecord } from './store.ts';
import type { Output } from './types.ts';

export type { PartitionChange, Replicator };

export const changelogKey = (p: number) => `$cl/${p}`;

const CHANGE_DBS = new Set<unknown>(['state', 'timers', 'outbox', 'dedup']);
const FIRST_RETRY_MS = 100;
const LAST_RETRY_MS = 2000;

/** The partition an item's writes belong to (-1: none, as for another node's changes). */
export function itemPartition(item: Item): number {
  if (item.kind === 'event' || item.kind === 'derived' || item.kind === 'log') return item.partition;
  return item.kind === 'timer' ? (item.rec.partition ?? 0) : -1;
}

/** Why an applyChanges call is refused whole, or null. */
function changesProblem(partition: number, changes: unknown, count: number, local: boolean, owns: boolean): Error | null {
  if (!Number.isInteger(partition) || partition < 0 || partition >= count) return new RangeError(`partition must be an integer from 0 to ${count - 1} (got ${String(partition)})`);
  if (local) return new RangeError(`partition ${partition} is applied here: its changes come from its own batches`);
  if (!owns) return new RangeError(`partition ${partition} is kept by another engine thread`);
  if (!Array.isArray(changes)) return new TypeError('changes must be an array');
  let previous = 0;
  for (const [i, c] of changes.entries()) {
    const { seq, change } = (c ?? {}) as { seq?: unknown; change?: Partial<PartitionChange> };
    if (!Number.isSafeInteger(seq) || (seq as number) <= previous) return new RangeError(`change ${i}: seq must be an integer above ${previous}; got ${String(seq)}`);
    previous = seq as number;
    if (change?.partition !== partition || !Array.isArray(change.writes) || !Array.isArray(change.outputs)) return new TypeError(`change ${i} is not a change of partition ${partition}`);
    for (const w of change.writes) {
      if (!Array.isArray(w) || !CHANGE_DBS.has(w[0]) || typeof w[1] !== 'string' || w[1].length === 0 || w[1].length > MAX_KEY_CHARS) return new TypeError(`change ${i} holds a write that is not [db, key, value]`);
    }
    if (change.scrub !== undefined && !(Array.isArray(change.scrub) && change.scrub.every((v) => typeof v === 'string'))) return new TypeError(`change ${i}: scrub must be a list of strings`);
    for (const o of change.outputs as Array<Partial<Output> | null>) {
      if (typeof o?.topic !== 'string' || !Number.isSafeInteger(o.seq)) return new TypeError(`change ${i} holds an output without a topic and seq`);
    }
  }
  return null;
}

export interface ChangelogContext {
  store: StateStore;
  count: number;
  /** This engine applies partition p here: its thread's, and not another node's. */
  local(p: number): boolean;
  /** This engine thread keeps partition p (EngineOptions.share). */
  owns(p: number): boolean;
  /** No other node applies partition p (setRemote). */
  onNode(p: number): boolean;
}

export class Changelog {
  private replicator: Replicator | undefined;
  /**
   * The last batch being replicated and committed: the next waits for it, so commits keep their
   * order, and fails with it (nothing commits on top of a batch that was not).
   */
  private chain: Promise<unknown> = Promise.resolve();
  /** Batches in the chain whose commit is not issued yet. */
  private chained = 0;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** batchIds are this run's id and the batch number: unique across restarts. */
  private readonly run = randomUUID();
  /** Each copied partition's highest changelog seq applied in this process, committed or not. */
  private readonly applied: number[];
  private readonly waiting = new Set<ChangesItem>();
  /** Which partitions were local when last asked (moved). */
  private readonly wasLocal: boolean[];

  constructor(private readonly ctx: ChangelogContext) {
    this.applied = Array.from({ length: ctx.count }, (_, p) => this.position(p));
    this.wasLocal = Array.from({ length: ctx.count }, (_, p) => ctx.local(p));
  }

  /**
   * The local partitions changed (setRemote): one that became local goes on from its copy (its
   * checkpoint, log position and timers, which fire here from now on); one applied elsewhere now
   * stops firing timers here. Only the gained partitions' timers are loaded: a timer that a batch
   * in flight cancelled is still stored.
   */
  relocate(partitions: Partitions, timers: TimerQueue, timerPartition: (rec: TimerRecord) => number): void {
    const gained = new Set(this.moved());
    for (const p of gained) partitions.reload(p);
    timers.unload(this.ctx.local);
    if (gained.size > 0) timers.load((p) => gained.has(p), timerPartition);
  }

  /**
   * Partitions that became local since last asked. Each moved partition's changelog position is
   * read again from its latest state: its owner's batches (local) or the copy's (not) move it on.
   */
  private moved(): number[] {
    const gained: number[] = [];
    for (let p = 0; p < this.ctx.count; p++) {
      const local = this.ctx.local(p);
      if (local === this.wasLocal[p]) continue;
      this.wasLocal[p] = local;
      this.applied[p] = this.ctx.store.latest.get<number>(changelogKey(p)) ?? 0;
      if (local) gained.push(p);
    }
    return gained;
  }

  set(replicator: Replicator | undefined): void {
    if (replicator !== undefined && typeof replicator?.replicate !== 'function') throw new TypeError('a replicator needs a replicate(changes, batchId) function');
    this.replicator = replicator;
  }

  /** What a new batch notes its writes with: a PartitionTrack while a replicator is set. */
  track(): PartitionTrack | undefined {
    return this.replicator && new PartitionTrack();
  }

  /**
   * An outbox entry this node keeps as a copy: its emitting partition is applied on another node,
   * which has it too, since that partition's changes go to the changelog (or came from it).
   */
  readonly copied = (outboxKey: string): boolean => {
    const source = Number(outboxKey.slice(0, outboxKey.indexOf('/')));
    return !this.ctx.onNode(source) && this.position(source) > 0;
  };

  /** The durable changelog seq of partition p (0: none). */
  position(p: number): number {
    return this.ctx.store.durable.get<number>(changelogKey(p)) ?? 0;
  }

  /** Replicates the batch (when tracked and a replicator is set), then commits it, after the batches before it. */
  commit(batch: Batch, commit: () => Promise<unknown>): Promise<unknown> {
    // Nothing to replicate and nothing before it waiting: committed at once, as without a changelog.
    if (this.chained === 0 && !batch.set.track) return commit();
    // Built now, as the batch was applied: a partition lost meanwhile still has this batch's changes replicated.
    const replicator = this.replicator;
    const changes = replicator && batch.set.track?.build(batch.set, batch.outputs, this.ctx.local, this.ctx.onNode);
    this.chained++;
    const done = this.chain
      .then(() => (replicator && changes && changes.length > 0 ? this.replicated(batch, replicator, changes) : undefined))
      .finally(() => this.chained--)
      .then(commit);
    this.chain = done;
    return done;
  }

  private async replicated(batch: Batch, replicator: Replicator, changes: PartitionChange[]): Promise<void> {
    const seqs = await this.retried(replicator, changes, `${this.run}:${batch.set.batch}`);
    const { store } = this.ctx;
    // Never backwards: another engine thread may have replicated a later change of the partition (an outbox entry's delete).
    for (const [i, c] of changes.entries()) store.write(batch.set, changelogKey(c.partition), Math.max(seqs[i], store.latest.get<number>(changelogKey(c.partition)) ?? 0));
  }

  private async retried(replicator: Replicator, changes: PartitionChange[], batchId: string): Promise<number[]> {
    let delay = FIRST_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        const seqs = await replicator.replicate(changes, batchId);
        if (!Array.isArray(seqs) || seqs.length !== changes.length || !seqs.every((s) => Number.isSafeInteger(s) && s > 0)) {
          throw new TypeError(`replicate resolved with ${JSON.stringify(seqs)}, not one changelog seq per change (${changes.length})`);
        }
        if (attempt > 1) console.error(`omni: batch ${batchId} replicated after ${attempt} attempts`);
        return seqs;
      } catch (err) {
        if (this.stopped || err instanceof EngineClosedError) throw new EngineClosedError();
        if (attempt === 1) console.error(`omni: replicating batch ${batchId} failed; retrying until it succeeds:`, err);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        if (this.stopped) throw new EngineClosedError();
        delay = Math.min(LAST_RETRY_MS, delay * 2);
      }
    }
  }

  /** The engine closes: a failing replication is not retried any more (its batch is not committed). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Takes another node's changes of partition p for the queue; the promise settles once they are durable. */
  accept(partition: number, changes: Array<{ seq: number; change: PartitionChange }>, queue: Item[]): Promise<void> {
    const problem = changesProblem(partition, changes, this.ctx.count, this.ctx.local(partition), this.ctx.owns(partition));
    if (problem) return Promise.reject(problem);
    return new Promise((resolve, reject) => {
      const item: ChangesItem = { kind: 'changes', partition, changes, resolve, reject };
      this.waiting.add(item);
      queue.push(item);
    });
  }

  /** In the batch: the changes not applied yet, `$cl/<p>` with them, their outputs released with the batch. */
  apply(batch: Batch, item: ChangesItem): void {
    const p = item.partition;
    // Became local since it was queued: its own batches write it now.
    if (this.ctx.local(p)) {
      item.refused = new RangeError(`partition ${p} became local before its changes were applied`);
      return;
    }
    const { store } = this.ctx;
    const set = batch.set;
    for (const { seq, change } of item.changes) {
      if (seq <= this.applied[p]) continue;
      for (const [db, key, value] of change.writes) {
        if (db === 'state') store.write(set, key, value);
        else if (db === 'timers') set.timers.set(key, value as TimerRecord | undefined);
        else if (db === 'outbox') set.outbox.set(key, value);
        else if (value !== undefined) {
          // Into the current generation of the engine thread applying p: where its lookups go first.
          set.dedupIds.push(key);
          set.dedupAnswers.push(value);
        }
      }
      batch.outputs.push(...change.outputs);
      if (change.scrub) {
        batch.scrub = true;
        (batch.scrubValues ??= []).push(...change.scrub);
      }
      this.applied[p] = seq;
      store.write(set, changelogKey(p), seq);
    }
  }

  /** The batch holding these changes is durable (or was refused them). */
  settle(item: ChangesItem): void {
    this.waiting.delete(item);
    if (item.refused) item.reject(item.refused);
    else item.resolve();
  }

  /** The engine stopped (or closed with changes never applied): their callers hear so. */
  failAll(err: Error): void {
    for (const item of this.waiting) item.reject(err);
    this.waiting.clear();
  }
}
