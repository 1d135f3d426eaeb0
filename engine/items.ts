// What the engine queues and batches: events with the submission waiting for them, due
// timers, and empty ticks; and a batch with everything it will commit and release.

import type { PartitionChange } from './partition-track.ts';
import type { Followed } from './follow-events.ts';
import type { TimerRecord, WriteSet } from './store.ts';
import type { EventResult, InputEvent, Output, Processor } from './types.ts';

/** One `submit` call: resolved once every one of its events has an answer. */
export interface Submission {
  results: EventResult[];
  remaining: number;
  resolve(results: EventResult[]): void;
  reject(err: Error): void;
}

export interface EventItem {
  kind: 'event';
  /** Freshly built from what arrived (event-builder.ts). */
  event: InputEvent;
  /** Its digest (event-builder.ts): a later event with this id and another digest is an id_conflict. */
  digest: number;
  processor: Processor;
  partition: number;
  arrival: number;
  sub: Submission;
  index: number;
  result?: EventResult;
  /** Its answer waits for work in other partitions (PendingResult): given by a later batch. */
  pending?: true;
  /** Submissions of the same id that arrived while this one was in flight. */
  duplicates?: Array<{ sub: Submission; index: number }>;
  /** Its seq in its partition's log (Engine.submitLogged): its batch commits the position with it. */
  logSeq?: number;
}

export interface TimerItem {
  kind: 'timer';
  key: string;
  rec: TimerRecord;
}

/**
 * A derived event (Effects.emit): stored in the outbox under `outboxKey` by the batch that
 * emitted it, applied once on its partition, and taken out of the outbox in that same batch.
 */
export interface DerivedItem {
  kind: 'derived';
  event: InputEvent;
  processor: Processor;
  partition: number;
  outboxKey: string;
  /** When it was emitted (clock ms): its event time. */
  arrival: number;
  /** It came from another engine thread (Outbox.fromWire), which may also have left it to be restored here. */
  relayed?: true;
  /**
   * It came from its partition's log (remote-partitions.ts), not from this engine's outbox: its
   * seq, and the `submitLogged` call answered once its batch is durable (`duplicate` when its
   * id had been applied already).
   */
  logged?: { seq: number; sub: Submission; index: number; duplicate?: true };
}

/** Outbox entries another node's log now holds (Engine.derivedSent): deleted in a batch. */
export interface SentItem {
  kind: 'sent';
  keys: readonly string[];
}

/** A follow event being gathered (follow-events.ts): what one follower follows from one partition to one. */
export interface FollowDraft {
  source: number;
  target: number;
  followed: Followed[];
}

/** An empty batch item: lets an idle engine run its per-batch upkeep (dedup rotation). */
export interface TickItem {
  kind: 'tick';
}

/**
 * Log entries answered without being applied (refused, or duplicates of an event applied
 * earlier): the partition's log position moves past them, in order with its other entries.
 */
export interface LogMarkItem {
  kind: 'log';
  partition: number;
  seq: number;
}

/** Another node's changes of a partition not applied here (changelog.ts): settled once durable. */
export interface ChangesItem {
  kind: 'changes';
  partition: number;
  changes: Array<{ seq: number; change: PartitionChange }>;
  resolve(): void;
  reject(err: Error): void;
  refused?: Error;
}

export type Item = EventItem | DerivedItem | TimerItem | TickItem | LogMarkItem | SentItem | ChangesItem;

/** The seqs of a group of topics, by slot (see Processor.seqSlot): copied with slice. */
export type SeqRecord = number[];

export interface Batch {
  set: WriteSet;
  items: Item[];
  outputs: Output[];
  /** State topics changed in this batch → the oldest event time folded into their update. */
  changed: Map<string, number>;
  /** Sequence records touched in this batch, copied on first touch, written once. */
  seqs: Map<string, SeqRecord>;
  /** Groups of `seqs` restarted (Effects.restart): deleted at flush, the seq floor raised past them. */
  restarted?: Set<string>;
  /**
   * Changed state topics not rendered because nobody watched them when the batch was applied
   * (parallel arrays: topic, seq, ts). At release, those watched by then are rendered from the
   * durable view, which is then exactly the state after this batch.
   */
  unrendered?: { topics: string[]; seqs: number[]; ts: number[] };
  /** Derived events this batch emitted: queued for their partitions once it is durable. */
  emitted: DerivedItem[];
  /**
   * Follow events gathered while applying, per follower, by source × count + target partition:
   * stored and added to `emitted` when the apply ends.
   */
  follows?: Map<Processor, Map<number, FollowDraft>>;
  /** Pending events this batch answered (Effects.answers): delivered once it is durable. */
  answers: Array<{ id: string; result: EventResult }>;
  /** Answers to events pending on another node (no record here): for RemotePartitions.answered. */
  foreignAnswers?: EventResult[];
  /** Some effect asked for a store rewrite once this batch is durable (Effects.scrub). */
  scrub?: boolean;
  /** The erased values those effects named: kept answers holding one are redacted by the rewrite. */
  scrubValues?: string[];
  /** The clock when the batch began: its events' `now`, and that of the followers' reactions to them. */
  now: number;
  applyMs: number;
  committing: number;
}

/** A batch of `items`, about to be applied at clock time `now` into `set`. */
export function newBatch(set: WriteSet, items: Item[], now: number): Batch {
  return { set, items, outputs: [], changed: new Map(), seqs: new Map(), emitted: [], answers: [], now, applyMs: 0, committing: 0 };
}
