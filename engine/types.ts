// The engine's vocabulary: what goes in (events), what a domain processor
// returns (effects), and what comes out after a commit (results, outputs).

import type { DataDirLock } from './data-dir-lock.ts';
import type { EventError } from './errors.ts';
import type { EventSchema } from './validate.ts';

/** An event as it arrives: validated by the processor that owns its `type`. */
export interface InputEvent {
  id: string;
  type: string;
  ts?: number;
  [field: string]: unknown;
}

// Kept beside the error codes so that validate.ts, which types.ts imports, need not import types.ts.
export type { EventError } from './errors.ts';

/**
 * An event already built and checked (event-builder.ts) by the thread that took it in, with its
 * digest and when it arrived (clock ms: its event time when it carries no `ts`). A tuple, as it
 * crosses between threads: nothing is rebuilt on arrival.
 */
export type PrebuiltEvent = [event: InputEvent, digest: number, arrival: number];

/** The answer to one event, in the order the events were submitted. */
export type EventResult =
  | ({ id: string; ok: true; duplicate?: true } & Record<string, unknown>)
  | { id: string | null; ok: false; error: EventError; duplicate?: true };

/** Read access to the state as a processor sees it (its own uncommitted writes included). */
export interface StateView {
  get<T>(key: string): T | undefined;
}

/** A durable timer: fires once at `at` (clock ms) unless cancelled or replaced (same id). */
export interface TimerSpec {
  id: string;
  at: number;
  data: unknown;
}

/** A final answer: what the sender of an event gets. */
export type FinalResult = { ok: true; [field: string]: unknown } | { ok: false; error: EventError };

/**
 * The answer of an event whose work goes on in other partitions (a saga): it is given later, by
 * the effects that finish the work (`Effects.answers`), and its sender waits until then. `ok` as
 * far as this partition goes: the event's other effects (writes, emits, timers) are committed now.
 */
export interface PendingResult {
  ok: true;
  pending: true;
  [field: string]: unknown;
}

export function isPending(result: FinalResult | PendingResult): result is PendingResult {
  return result.ok && result.pending === true;
}

/** Finishes an event left pending: its final answer, and the event itself for its followers. */
export interface PendingAnswer {
  /** The pending event's id. */
  id: string;
  result: FinalResult;
  /** The pending event as it was applied: when given and the answer is ok, processors following its type react to it then. */
  event?: InputEvent;
}

/** What applying one event (or one timer) did. Nothing here is visible until committed. */
export interface Effects {
  /**
   * The answer to the event (ignored for timers and derived events). Extra fields are returned to
   * the sender. Writes, emits and timers are kept only with an ok or pending answer.
   */
  result: FinalResult | PendingResult;
  /** State writes, applied in order; `undefined` deletes the key. */
  writes?: Array<[key: string, value: unknown]>;
  /** State topics whose state changed: rendered once per batch, after all its events. */
  changed?: string[];
  /** Event-topic messages (alerts, offers): every one is delivered, in order. */
  messages?: Array<{ topic: string; data: unknown }>;
  /**
   * Topics whose updates so far must never be replayed (a customer's erasure): each one's seq
   * skips a number here, so the push layer's kept history, which covers only an unbroken run,
   * starts over after it, and a subscriber resuming from before gets a snapshot. A state topic's
   * seq record, whose key names the topic, is deleted in this commit (topic-seqs.ts: later seqs
   * still rise).
   */
  restart?: string[];
  /**
   * Events whose kept answers (the dedup index) hold data now erased: each answer becomes
   * `{ok: true, redacted: true}`, its digest kept, so a retry is still a duplicate. Only answers
   * this engine thread can reach are changed (an event of this partition, or one it reads).
   */
  redactAnswers?: string[];
  /**
   * This batch removes personal data: after it commits, the store is rewritten so that no freed
   * page keeps it (store-rewrite.ts). Several such batches close together share one rewrite.
   * `values` are what was erased (ids, names): the rewrite also redacts every kept answer (the
   * dedup index) whose bytes hold one of them, as `redactAnswers` does for answers it can name.
   */
  scrub?: boolean | { values: string[] };
  timers?: { set?: TimerSpec[]; cancel?: string[] };
  /**
   * Derived events: work for other keys, which may live in other partitions (a hold at each SKU of
   * an order). Each type is one a processor declares in `internalTypes`, its id unique among the
   * derived events not yet applied (deterministic, from the event that caused it). Stored with
   * this batch's commit and applied exactly once after it, in emit order per partition, on the
   * partition its key names; a crash in between re-sends it on restart.
   */
  emit?: InputEvent[];
  /** Final answers to events left pending (PendingResult), given once the work they began is done. */
  answers?: PendingAnswer[];
}

export interface EventContext {
  /** The event's own time: its `ts` when given, else its arrival time. */
  eventTime: number;
  /** The clock, for timeouts that wait on people (reservation expiry, offers, SLA). */
  now: number;
}

/** A pure domain processor: (state, event, time) → effects. No I/O. */
export interface Processor {
  readonly name: string;
  /** Event types this processor owns. */
  readonly types: readonly string[];
  /**
   * Event types whose state other partitions read (a location, read by every SKU's stock events;
   * an identity link, read by the service domain). With several engine threads, the events a
   * submission holds after one of these are applied after it is, so they see it, as they would
   * from one thread applying the submission in order.
   */
  readonly readByOthers?: readonly string[];
  /**
   * Event types whose steps run on other partitions (derived events: a reservation's hold at its
   * SKU). With several engine threads, the events of other threads' partitions a submission holds
   * before one of these are committed before it is applied: were its batch to commit first and the
   * process die before theirs, its steps would be found in the outbox at restart and applied ahead
   * of them, which the sender's retry brings only afterwards.
   */
  readonly stepsElsewhere?: readonly string[];
  /**
   * Event types that read what an event before them in their submission writes on another
   * partition (a refund, its redemption's index): applied only once the events of other keys
   * before them in the submission are answered, with one engine thread or several.
   */
  readonly readsEarlier?: readonly string[];
  /**
   * Event types only processors emit (Effects.emit), never accepted from a sender: applied like
   * any event on the partition their key names, their answer discarded (a saga's steps answer
   * each other by emitting).
   */
  readonly internalTypes?: readonly string[];
  /** Topic prefixes this processor renders (e.g. "stock/"). */
  readonly topicPrefixes: readonly string[];
  /**
   * The fields of each type it owns (besides `id`, `type`, `ts`): the engine builds a fresh
   * event from these alone, each value checked, and refuses any other field.
   */
  readonly schemas: Readonly<Record<string, EventSchema>>;
  /**
   * Checks across the fields of a freshly built event (say, exactly one of two); absent when
   * every field is checked alone by `schemas`. Pure: no state.
   */
  validate?(event: InputEvent): EventError | null;
  /** The key that orders this event (SKU, customer, queue); picks its partition. */
  partitionKey(event: InputEvent): string;
  apply(view: StateView, event: InputEvent, ctx: EventContext): Effects;
  onTimer(view: StateView, timer: TimerSpec, ctx: EventContext): Omit<Effects, 'result'>;
  /**
   * The key a timer belongs with, for timers stored before timers kept their partition: they
   * fire on that key's partition. Absent: such a timer fires on partition 0's.
   */
  timerKey?(timer: TimerSpec): string;
  /** Renders a state topic (`stock/<sku>`), or undefined when it has no state. */
  render(view: StateView, topic: string): unknown | undefined;
  /**
   * Where a topic's sequence number is stored: a group of topics shares one record of numbers
   * (one read and one write per batch instead of one per topic), the topic owning one slot.
   * `stock/A` is slot 0 of group `stock/A`, `stock/A@S1` the slot after S1's row. Slots never
   * move. Without it every topic is slot 0 of a group of its own.
   */
  seqSlot?(view: StateView, topic: string): { group: string; slot: number } | undefined;
  /**
   * Event types of other processors this one reacts to (a downstream processor, as in Kafka
   * Streams): after the owner applied such an event successfully, `onFollowed` sees the state
   * with the owner's writes, its answer and the state topics it changed, in the same batch.
   */
  readonly follows?: readonly string[];
  /**
   * Read-only questions about committed state that are not a topic (Kafka Streams' interactive
   * queries), such as recommendations for a store: undefined when the processor has no such query.
   */
  query?(view: StateView, name: string, args: Record<string, unknown>): unknown;
  onFollowed?(view: StateView, event: InputEvent, outcome: FollowedOutcome, ctx: EventContext): Omit<Effects, 'result'>;
  /**
   * Whether a followed event concerns this follower at all, asked where it was applied (the view
   * reads this follower's state as last committed): false skips the reaction, and the hop to the
   * follower's partition with it. Absent: every followed event is reacted to. Pure.
   */
  followsWhen?(view: StateView, event: InputEvent, outcome: FollowedOutcome): boolean;
}

/** What the owner of a followed event did with it. */
export interface FollowedOutcome {
  result: { ok: true; [field: string]: unknown };
  changed: readonly string[];
}

/** One message released to subscribers after its batch is durable. */
export interface Output {
  topic: string;
  seq: number;
  /** Undefined for a state topic nobody watched when it changed: its seq moved, data was not rendered. */
  data: unknown;
  /** Time of the oldest event folded into this update (epoch ms). */
  ts: number;
  /**
   * The topic's whole state at `seq` rather than one update after the previous: sent by the
   * engine on its own thread when the push layer starts watching a topic (threaded-engine.ts),
   * possibly after updates nobody rendered.
   */
  snapshot?: true;
}

export type Durability = 'fsync' | 'commit' | 'none';

export interface EngineOptions {
  /** LMDB directory. */
  path: string;
  processors: Processor[];
  /**
   * fsync (default): acknowledged after the commit is flushed to disk: survives kill -9,
   *   OS crash and power loss.
   * commit: acknowledged after the LMDB commit: survives kill -9; on power loss the store
   *   reverts to the last flushed commit (consistent, recent acknowledged events may be lost).
   * none: no fsync at all (benchmarks only).
   */
  durability?: Durability;
  /**
   * Partitions events are routed to by key (1 to 1024); each orders its events and keeps its own
   * input checkpoint. Fixed when the data dir is created and stored in it: unset opens an
   * existing dir with its stored count (16 for a dir made before the count was stored) and a new
   * one with 32; another count than the stored one throws PartitionCountMismatchError.
   */
  partitions?: number;
  /**
   * This engine is one of `slots` engines on threads of their own over the same data dir, and
   * applies the partitions p with p % slots === slot; derived events for the others leave
   * through `onRelay` and theirs arrive through `acceptDerived` (threaded-engine.ts). Unset: it
   * applies every partition.
   */
  share?: { slot: number; slots: number };
  /** Most events applied in one batch / one LMDB transaction. */
  maxBatch?: number;
  /** Batches applied but not yet durable at once (pipelining of group commit). */
  maxInFlight?: number;
  /** How long a repeated event id is recognised: at least this, at most twice this. */
  dedupRetentionMs?: number;
  /** Committed state values kept decoded in memory. */
  cacheEntries?: number;
  /** Clock for timers; tests pass a manual one. */
  clock?: Clock;
  /** Arm a real timer for the next due engine timer (false in tests that drive `runDueTimers`). */
  autoTimers?: boolean;
  /** LMDB map size in bytes. */
  mapSize?: number;
  /**
   * The data dir, already taken by the caller (`omni serve` takes it before reading its secret
   * file); the engine releases it on close. Without it the engine takes the dir itself.
   */
  dataDirLock?: DataDirLock;
  /**
   * The data dir is held by the thread that started this engine's thread (threaded-engine.ts),
   * which stops this thread if it loses it: the engine takes no lock of its own.
   */
  dataDirHeldByHost?: boolean;
  /** Partitions other nodes apply, from the start (remote-partitions.ts; Engine.setRemote changes it). */
  remote?: RemotePartitions;
  /**
   * How long after a batch asking for a store rewrite (Effects.scrub) the rewrite starts (default
   * 0): erasures arriving meanwhile share it.
   */
  scrubDelayMs?: number;
  /** False: erasures leave freed pages as LMDB does, no rewrite (tests showing what the rewrite removes). Default true. */
  rewriteAfterErasure?: boolean;
}

export interface Clock {
  now(): number;
}

export interface BatchStats {
  events: number;
  writes: number;
  applyMs: number;
  commitMs: number;
}

export interface EngineStats {
  /** Counted per `type|result` where result is `ok` or an error code. */
  eventsByTypeAndResult: Map<string, number>;
  batches: number;
  pendingTimers: number;
  queued: number;
  /**
   * Every partition: its events waiting for a batch, seconds spent applying its events since
   * this process opened the data dir, and its checkpoint (events it has applied, ever).
   */
  partitions: Array<{ partition: number; queued: number; applySeconds: number; checkpoint: number }>;
  /** Store rewrites after erasures (store-rewrite.ts) since start: how many, and how long the last and all of them took. */
  storeRewrites?: StoreRewriteStats;
}

export interface StoreRewriteStats {
  count: number;
  lastMs: number;
  totalMs: number;
}

/** Which worker applies which partitions (Engine.layout). */
export interface EngineLayout {
  partitions: number;
  workers: Array<{ worker: number; partitions: number[] }>;
}

// ---- partitions applied on other nodes (remote-partitions.ts) ---------------------------

/** A derived event for a partition another node applies, with the outbox key `derivedSent` takes back. */
export interface RemoteDerived {
  partition: number;
  event: InputEvent;
  outboxKey: string;
  /** When it was emitted (clock ms): its event time, to be carried to the target's log entry. */
  arrival: number;
}

/** Which partitions this node applies, where derived events for the others go, and answers nobody here waits for. */
export interface RemotePartitions {
  /**
   * Whether this node applies partition `p`. Read at each routing decision; when the answer
   * changes (a lease gained or lost), give the engine the interface again (setRemote).
   */
  isLocal(p: number): boolean;
  /** Derived events for other nodes' partitions, after the batch that emitted them is durable. */
  send(items: RemoteDerived[]): void;
  /** Answers to pending events that no submission to this engine waits for (the sender is elsewhere). */
  answered?(results: EventResult[]): void;
}

/** A log entry carrying a derived event another node emitted (RemoteDerived), instead of a sent event. */
export interface LoggedDerived {
  seq: number;
  derived: InputEvent;
  /** RemoteDerived.arrival; the clock at intake when absent. */
  arrival?: number;
}
