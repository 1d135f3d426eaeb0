// The engine core: orders events, applies them through pure processors, group-commits each
// batch (state, dedup answers, topic sequence numbers, timers, checkpoints) in one LMDB
// transaction, and only then answers the senders and releases the batch's outputs.

import { BatchApplier } from './batch-applier.ts';
import { Changelog, type PartitionChange, type Replicator } from './changelog.ts';
import type { DataDirLock } from './data-dir-lock.ts';
import { DedupIndex } from './dedup.ts';
import { recordDataDir, recordedEpoch } from './data-dir-records.ts';
import { EngineClosedError } from './errors.ts';
import { EventCounts } from './event-counts.ts';
import { newBatch, type Batch, type Item } from './items.ts';
import { Intake } from './intake.ts';
import { loggedCallProblem, type LogEntry } from './log-positions.ts';
import { EngineListeners } from './listeners.ts';
import { Outbox, type DerivedWire } from './outbox.ts';
import { derivedOfLog, RemoteRouting } from './remote-partitions.ts';
import { Partitions, partitionCount } from './partitions.ts';
import { WriteSet, type StateStore, type TimerRecord } from './store.ts';
import { EngineRewrites } from './engine-rewrites.ts';
import { SubmissionCutter } from './submission-cut.ts';
import { TimerQueue } from './timers.ts';
import { TimerScheduler } from './timer-scheduler.ts';
import type { ProcessorIndex } from './processor-index.ts';
import { TopicSeqs, topicSnapshot } from './topic-seqs.ts';
import type { BatchStats, Clock, EngineLayout, EngineOptions, EngineStats, EventResult, Output, PrebuiltEvent, RemotePartitions } from './types.ts';

const DAY_MS = 24 * 3600 * 1000;
/** Events applied per turn of the event loop (~5 ms of work) before yielding. */
const APPLY_SLICE = 1000;
export class Engine {
  epoch = '';
  private readonly timers: TimerQueue;
  /** Made at start, once the data dir's partition count is known. */
  private partitions!: Partitions;
  private dedup!: DedupIndex;
  private applier!: BatchApplier;
  private outbox!: Outbox;
  private changelog!: Changelog;
  private readonly topics: TopicSeqs;
  private readonly clock: Clock;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;

  private queue: Item[] = [];
  private readonly intake: Intake;
  private readonly cutter: SubmissionCutter;
  private inFlight = 0;
  private tail: Promise<void> = Promise.resolve();
  private drainScheduled = false;
  private batchNo = 0;
  private closing = false;
  private failure: Error | undefined;
  private readonly scheduler: TimerScheduler;
  private maintenance: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private interest: ((topic: string) => boolean) | undefined;
  /** A batch is being applied (possibly across several turns of the event loop). */
  private applying = false;
  private closed: Promise<void> | undefined;

  private readonly listeners = new EngineListeners();
  /** Takes derived events for partitions another engine thread applies (EngineOptions.share). */
  private relay: ((items: DerivedWire[]) => void) | undefined;
  private readonly remote = new RemoteRouting();
  private readonly counts = new EventCounts();
  private batches = 0;
  private replicating = false;
  /** No batch starts (a store rewrite is under way). */
  private paused = false;
  private readonly rewrites: EngineRewrites;

  /**
   * Made by openEngine (open-engine.ts), which checks the processors, takes the data dir and opens
   * its store: `dataDir` is held from before LMDB opens until close (one process owns a data dir).
   */
  constructor(
    private readonly options: EngineOptions,
    private readonly processors: ProcessorIndex,
    private readonly store: StateStore,
    private readonly dataDir: DataDirLock | undefined,
  ) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.maxBatch = options.maxBatch ?? 20_000;
    this.maxInFlight = options.maxInFlight ?? 3;
    this.maxQueued = 2_000_000;
    this.remote.set(options.remote);
    // Another process may write the dir now: stop like after a failed commit.
    this.dataDir?.onLost((error) => this.fail(error));
    this.timers = new TimerQueue(this.store);
    this.topics = new TopicSeqs(this.store, this.processors, options.share?.slot ?? 0);
    this.intake = new Intake({
      owners: this.processors.byType,
      counts: this.counts,
      dedup: () => this.dedup,
      partitions: () => this.partitions,
      queue: () => this.queue,
      maxQueued: this.maxQueued,
      derivedOfLog: (partition, entry, arrival) => derivedOfLog(this.outbox, partition, entry, arrival),
    });
    // The parts of a submission taken before close are applied during it (close waits for them).
    this.cutter = new SubmissionCutter(this.processors, (events) => (this.failure ? Promise.reject(this.failure) : this.accepted(this.intake.accept(events, this.clock.now()))));
    this.scheduler = new TimerScheduler(this.clock, options.autoTimers !== false, () => this.enqueueDueTimers());
    const host = { pause: () => this.pause(), resume: () => this.resume(), fail: (e: Error) => this.fail(e), failed: () => this.failure !== undefined };
    this.rewrites = new EngineRewrites(this.store, options, host);
  }

  async start(): Promise<void> {
    await this.rewrites.atStart();
    // First, so a data dir opened with another partition count is refused having written nothing.
    this.partitions = new Partitions(this.store, partitionCount(this.store, this.options.path, this.options.partitions));
    const retention = this.options.dedupRetentionMs ?? DAY_MS;
    const { slot, slots } = this.options.share ?? { slot: 0, slots: 1 };
    // The first engine thread records the dir; the others start once it has (threaded-engine.ts).
    this.epoch = slot === 0 ? await recordDataDir(this.store, this.partitions.count, slots) : recordedEpoch(this.store);
    this.dedup = new DedupIndex(this.store, retention, this.clock.now(), slot, slots);
    await this.dedup.open();
    // Rotation happens in a batch; an idle engine gets an empty one when a rotation is due.
    this.maintenance = setInterval(() => {
      if (this.queue.length === 0 && this.dedup.rotationDue(this.clock.now())) {
        this.queue.push({ kind: 'tick' });
        this.scheduleDrain();
      }
    }, Math.min(retention / 4, 60_000));
    this.maintenance.unref();
    this.outbox = new Outbox(this.store, this.partitions, this.processors.byInternalType);
    this.changelog = new Changelog({ store: this.store, count: this.partitions.count, local: this.local, owns: this.owns, onNode: this.remote.isLocal });
    this.applier = new BatchApplier(this.store, this.timers, this.dedup, this.partitions, this.topics, this.processors.byName, this.outbox, {
      count: (type, result) => this.counts.count(type, result),
      // Replicated, every changed topic is rendered: copies release what the owner rendered, for subscribers of theirs.
      rendering: () => this.listeners.rendering || this.replicating,
      watched: (topic) => this.interest === undefined || this.replicating || this.interest(topic),
      remote: this.remote,
      changes: (batch, item) => this.changelog.apply(batch, item),
    });
    this.timers.load(this.local, this.timerPartition);
    // Derived events a committed batch emitted and no batch applied yet (outbox.ts): first in line, or sent.
    this.remote.resend(this.outbox, this.owns, this.queue, false, this.changelog.copied);
    this.enqueueDueTimers();
  }

  // ---- input ---------------------------------------------------------------------------

  /**
   * Applies events in order; resolves with one result each once their batch is durable. An event
   * other partitions read followed by more is applied first, and the rest after its answer
   * (submission-cut.ts), as with several engine threads.
   */
  submit(events: readonly unknown[]): Promise<EventResult[]> {
    if (this.closing || this.failure) return Promise.reject(this.failure ?? new EngineClosedError());
    return this.cutter.submit(events);
  }

  /**
   * Applies events built and checked elsewhere (the thread that took them from the wire, see
   * threaded-engine.ts): each with its digest and arrival time. Resolves like `submit`.
   */
  submitBuilt(events: readonly PrebuiltEvent[]): Promise<EventResult[]> {
    if (this.closing || this.failure) return Promise.reject(this.failure ?? new EngineClosedError());
    return this.accepted(this.intake.acceptBuilt(events));
  }

  /** Applies entries of partition `partition`'s log, committing its position with them (log-positions.ts); resolves like `submit`. */
  submitLogged(partition: number, entries: readonly LogEntry[]): Promise<EventResult[]> {
    const refused = this.closing || this.failure ? (this.failure ?? new EngineClosedError()) : loggedCallProblem(partition, entries, this.partitions.count, this.owns);
    if (refused) return Promise.reject(refused);
    return this.accepted(this.intake.acceptLogged(partition, entries, this.clock.now()));
  }

  /** The durable position of partition `partition`'s log (0: none): a reader resumes after it. */
  logPosition(partition: number): number {
    return this.partitions.logs.committed(partition);
  }

  private accepted<T>(answers: Promise<T>): Promise<T> {
    this.scheduleDrain();
    return answers;
  }

  /** Whether this engine applies partition `p` (EngineOptions.share). */
  readonly owns = (p: number): boolean => this.options.share === undefined || p % this.options.share.slots === this.options.share.slot;
  /** Whether this engine applies `p` and no other node does (setRemote): its timers fire here, its batches are replicated. */
  private readonly local = (p: number): boolean => this.owns(p) && this.remote.isLocal(p);
  /** A timer from before timers kept their partition gets its processor's key's. */
  private readonly timerPartition = (rec: TimerRecord): number => {
    const key = this.processors.byName.get(rec.processor)?.timerKey?.(rec);
    return key === undefined ? 0 : this.partitions.of(key);
  };

  /** Where each batch's changes go before it commits (changelog.ts); undefined: nowhere. */
  setReplicator(replicator: Replicator | undefined): void {
    this.changelog.set(replicator);
    this.replicating = replicator !== undefined;
  }

  /** Applies another node's changelog of partition `partition`, which is not local (changelog.ts); resolves once durable. */
  applyChanges(partition: number, changes: Array<{ seq: number; change: PartitionChange }>): Promise<void> {
    if (this.closing || this.failure) return Promise.reject(this.failure ?? new EngineClosedError());
    return this.accepted(this.changelog.accept(partition, changes, this.queue));
  }

  /** The changelog seq partition `partition`'s committed state is at (0: none). */
  changelogPosition(partition: number): number {
    return this.changelog.position(partition);
  }

  /** Derived events another engine thread emitted for partitions this one applies. */
  acceptDerived(items: readonly DerivedWire[]): void {
    // Closing or stopped: they stay in the outbox, and the next start applies them.
    if (this.closing || this.failure) return;
    for (const wire of items) this.queue.push(this.outbox.fromWire(wire));
    this.scheduleDrain();
  }

  /** Which partitions other nodes apply (remote-partitions.ts); given again whenever that changes. */
  setRemote(remote: RemotePartitions | undefined): void {
    this.remote.set(remote);
    this.changelog.relocate(this.partitions, this.timers, this.timerPartition);
    this.armTimer();
    if (this.closing || this.failure) return;
    this.remote.resend(this.outbox, this.owns, this.queue, true, this.changelog.copied);
    this.scheduleDrain();
  }

  /** Derived events handed to RemotePartitions.send that their partitions' logs now hold: out of the outbox. */
  derivedSent(outboxKeys: readonly string[]): void {
    if (this.closing || this.failure || !Array.isArray(outboxKeys)) return;
    this.queue.push({ kind: 'sent', keys: outboxKeys });
    this.scheduleDrain();
  }

  /** Where derived events for other engine threads' partitions go, once their batch is durable. */
  onRelay(listener: (items: DerivedWire[]) => void): void {
    this.relay = listener;
  }

  // ---- batching and commit -------------------------------------------------------------

  private scheduleDrain(): void {
    if (this.drainScheduled || this.applying || this.paused || this.queue.length === 0 || this.inFlight >= this.maxInFlight || this.failure) {
      return;
    }
    this.drainScheduled = true;
    // setImmediate, not a microtask: events from every socket read in this I/O turn join.
    setImmediate(() => {
      this.drainScheduled = false;
      if (this.queue.length > 0 && !this.applying && !this.paused && this.inFlight < this.maxInFlight && !this.failure) this.runBatch();
    });
  }

  private runBatch(): void {
    const started = performance.now();
    const items = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = this.queue.length <= this.maxBatch ? [] : this.queue.slice(this.maxBatch);
    const now = this.clock.now();
    const batch = newBatch(new WriteSet(++this.batchNo), items, now);
    batch.set.track = this.changelog.track();
    // What other engine threads committed since is read fresh in this batch (StoreOptions.shared).
    if (this.options.share) this.store.refreshReads();
    this.applying = true;
    // A large batch is applied in slices with a turn of the event loop between them, so
    // sockets, answers of earlier batches and timers are served while it grows; it is still
    // one transaction. Events arriving meanwhile wait for the next batch.
    let next = 0;
    const applySlice = () => {
      const end = Math.min(items.length, next + APPLY_SLICE);
      for (; next < end; next++) this.applier.apply(batch, items[next], now);
      if (next < items.length) {
        batch.applyMs += performance.now() - sliceStart;
        sliceStart = performance.now();
        setImmediate(applySlice);
        return;
      }
      this.applier.finishApply(batch);
      this.commitBatch(batch, now, sliceStart);
    };
    let sliceStart = started;
    applySlice();
  }

  private commitBatch(batch: Batch, now: number, sliceStart: number): void {
    if (this.failure) {
      // An earlier commit failed: this batch was applied on top of it and must not be stored.
      this.applying = false;
      this.checkIdle();
      return;
    }
    const rotate = this.dedup.maybeRotate(batch.set, now);
    batch.committing = performance.now();
    batch.applyMs += batch.committing - sliceStart;
    this.applying = false;
    this.inFlight++;
    const durable = this.changelog.commit(batch, () =>
      this.store.commit(batch.set, () => {
        rotate?.();
        this.dedup.writeAll(batch.set);
        this.rewrites.mark(batch.scrub, batch.scrubValues);
      }),
    );
    // Batches finish in commit order even if a later commit's promise settles first.
    this.tail = this.tail
      .then(() => durable)
      .then(() => this.finish(batch))
      .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
    this.scheduleDrain();
  }

  private finish(batch: Batch): void {
    // Built on a batch whose commit failed: nothing of it may be seen or answered.
    if (this.failure) return;
    this.store.release(batch.set);
    this.outbox.released(batch.set);
    this.inFlight--;
    for (const item of batch.items) {
      if (item.kind === 'event') this.intake.answered(item);
      else if (item.kind === 'changes') this.changelog.settle(item);
    }
    // Derived events go to the back of the queue: after what was submitted meanwhile, as they
    // would on a partition applied elsewhere. Other engine threads' go to them, other nodes' to `send`.
    const away = this.remote.finish(batch, this.owns, this.queue, (id, r) => this.intake.answerPending(id, r), (item) => this.intake.answeredLogged(item));
    if (away.length > 0) this.relay?.(away);
    if (batch.unrendered) this.applier.renderLateWatched(batch);
    this.rewrites.committed(batch.scrub);
    this.listeners.outputs(batch.outputs);
    this.batches++;
    const writes = batch.set.state.size + batch.set.dedupIds.length + batch.set.timers.size;
    this.listeners.batch({ events: batch.items.length, writes, applyMs: batch.applyMs, commitMs: performance.now() - batch.committing });
    this.armTimer();
    this.scheduleDrain();
    this.checkIdle();
  }

  /** A failed commit leaves memory ahead of disk: stop, so a restart recovers from disk. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    console.error('engine stopped; refusing further events:', err);
    this.intake.failAll(err);
    this.changelog?.failAll(err);
    this.listeners.fatal(err);
    this.checkIdle();
  }

  // ---- timers --------------------------------------------------------------------------

  private enqueueDueTimers(): number {
    const due = this.timers.takeDue(this.clock.now());
    for (const { key, rec } of due) this.queue.push({ kind: 'timer', key, rec });
    this.scheduleDrain();
    this.armTimer();
    return due.length;
  }

  private armTimer(): void {
    this.scheduler.arm(this.timers.nextDue());
  }

  /** Fires every timer due by the clock now and waits until their effects are durable. */
  async runDueTimers(): Promise<number> {
    const n = this.enqueueDueTimers();
    await this.idle();
    return n;
  }

  // ---- reads and listeners -------------------------------------------------------------

  /** A processor's read-only query on durable state (Processor.query). */
  query(processor: string, name: string, args: Record<string, unknown>): unknown {
    return this.processors.byName.get(processor)?.query?.(this.store.durable, name, args);
  }

  /** The durable state of a state topic, with the seq of the last update released for it. */
  snapshot(topic: string): { seq: number; epoch: string; data: unknown } | undefined {
    const snapshot = topicSnapshot(this.store.durable, this.processors.ofTopic(topic), topic);
    return snapshot && { ...snapshot, epoch: this.epoch };
  }

  /** The seq of the last durable update of a topic (0 when it never had one). */
  lastSeq(topic: string): number {
    return this.topics.lastDurable(topic);
  }

  /**
   * Which state topics to render after each batch (the push layer passes "has subscribers or
   * kept history"). Without a predicate every changed topic is rendered for the listeners.
   */
  setInterest(predicate: ((topic: string) => boolean) | undefined): void {
    this.interest = predicate;
  }

  /** Reads one durable state value (for adapters and tests). */
  read<T>(key: string): T | undefined {
    return this.store.durable.get<T>(key);
  }

  onOutput(listener: (outputs: Output[]) => void): () => void {
    return this.listeners.onOutput(listener);
  }

  onBatch(listener: (s: BatchStats) => void): () => void {
    return this.listeners.onBatch(listener);
  }

  onFatal(listener: (err: Error) => void): () => void {
    return this.listeners.onFatal(listener);
  }

  checkpoint(partition: number): number {
    return this.partitions.checkpoint(partition);
  }

  /** `partitions[p].queued` counts the queue when called: cheap while it is short, as it is unless overloaded. */
  stats(): EngineStats {
    const partitions = this.partitions.stats(this.queue);
    return { eventsByTypeAndResult: this.counts.byTypeAndResult(), batches: this.batches, pendingTimers: this.timers.size, queued: this.queue.length, partitions, storeRewrites: this.rewrites.stats() };
  }

  /** Which worker applies which partitions: this engine's (all of them, unless it shares the dir). */
  layout(): EngineLayout {
    return this.partitions.layout(this.options.share?.slot ?? 0, this.owns);
  }

  stateStats(): { entries: number; bytes: number } {
    return this.store.stats();
  }

  // ---- store rewrites (store-rewrite.ts) ----------------------------------------------------

  /** Resolves once every store rewrite asked for by a batch durable before this call has ended. */
  scrubbed(): Promise<void> {
    return this.rewrites.settled();
  }

  /** With engine threads: a durable batch asked for a store rewrite, which the starting thread runs (rewriteSteps). */
  onScrub(listener: () => void): void {
    this.rewrites.onScrub(listener);
  }

  get rewriteSteps(): EngineRewrites['steps'] {
    return this.rewrites.steps;
  }

  private async pause(): Promise<void> {
    this.paused = true;
    while ((this.applying || this.inFlight > 0) && !this.failure) await (this.applying ? new Promise(setImmediate) : this.tail);
  }

  private resume(): void {
    this.paused = false;
    this.scheduleDrain();
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return (this.queue.length === 0 && this.inFlight === 0 && !this.applying) || this.failure !== undefined;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Stops taking events, commits everything queued or in flight, then closes LMDB. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      this.changelog?.stop();
      this.scheduler.stop();
      clearInterval(this.maintenance);
      this.scheduleDrain();
      // A submission cut in two before close is applied whole (and those held behind it).
      await this.cutter.settled();
      await this.idle();
      // Left: events whose saga waits on something outside (a step another event triggers). Their
      // senders hear the engine closed, as for a lost connection, and their retry after a restart
      // waits for the answer.
      this.intake.failAll(new EngineClosedError());
      try {
        await this.rewrites.finish();
        await this.store.close();
      } finally {
        this.dataDir?.release();
      }
    })();
    return this.closed;
  }
}
