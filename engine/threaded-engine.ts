// The engine on threads of its own: this side, on the thread that takes requests and pushes
// updates, checks and builds each event (so only valid events cross), routes it to the engine
// thread applying its partition, and answers once that thread reports it durable; snapshots,
// reads and queries read the committed state directly (committed-reader.ts). Each engine thread
// applies, commits and renders its share of the partitions (engine-thread.ts), all of them in
// one LMDB environment; derived events for another thread's partitions pass through here
// (relay). Same answers, seqs, epoch and crash guarantees as the engine in this thread.

import { changelogKey, type PartitionChange, type Replicator } from './changelog.ts';
import { ChangelogLink } from './changelog-link.ts';
import { CommittedReader } from './committed-reader.ts';
import type { EngineThreadLink, Ready } from './engine-thread-link.ts';
import type { DataDirLock } from './data-dir-lock.ts';
import { EngineClosedError } from './errors.ts';
import { EventCounts } from './event-counts.ts';
import { EngineListeners } from './listeners.ts';
import { loggedCallProblem, logKey, type LogEntry } from './log-positions.ts';
import type { DerivedWire } from './outbox.ts';
import { checkpointKey } from './partitions.ts';
import { localPartitions } from './remote-partitions.ts';
import { defaultProcessors } from './processors.ts';
import { pack, unpack, type EngineThreadConfig, type EngineThreadStats, type FromEngine, type PackedAnswer, type ToEngine } from './thread-messages.ts';
import { ProcessorIndex } from './processor-index.ts';
import { RewriteSchedule } from './rewrite-schedule.ts';
import { rewriteSharedStore } from './threaded-rewrite.ts';
import { SubmissionRouter } from './submission-router.ts';
import { storedSeq, topicSnapshot } from './topic-seqs.ts';
import type { BatchStats, EngineLayout, EngineStats, EventResult, Output, RemoteDerived, RemotePartitions } from './types.ts';

export class ThreadedEngine {
  readonly epoch: string;
  private readonly reader: CommittedReader;
  private readonly processors: ProcessorIndex;
  private readonly listeners = new EngineListeners();
  /** Events refused before they reach an engine thread (invalid), counted here. */
  private readonly localCounts = new EventCounts();
  private readonly threadStats: EngineThreadStats[];
  private readonly partitionCount: number;
  private readonly engineLayout: EngineLayout;

  private readonly router: SubmissionRouter;
  /** Derived events passed between engine threads: idle() waits until none is on its way. */
  private relayed = 0;
  private closing = false;
  /** Output listeners here: with none, the engine threads render nothing. */
  private outputListeners = 0;
  /** Whether the push layer names the topics to render (setInterest with a predicate). */
  private watching = false;
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  private readonly changelog: ChangelogLink;
  private readonly rewrites: RewriteSchedule | undefined;

  constructor(
    private readonly links: EngineThreadLink[],
    ready: Ready[],
    config: Omit<EngineThreadConfig, 'share'>,
    private readonly dataDir: DataDirLock,
    private remote: RemotePartitions | undefined,
  ) {
    this.epoch = ready[0].epoch;
    this.partitionCount = ready[0].layout.partitions;
    this.engineLayout = { partitions: this.partitionCount, workers: ready.flatMap((r) => r.layout.workers) };
    // The engine's figures as each thread started (timers it holds from before, checkpoints), until its first batch.
    this.threadStats = ready.map((r) => r.stats);
    // Opened once the engine threads have opened the environment with their own settings.
    this.reader = new CommittedReader(config);
    this.processors = new ProcessorIndex(defaultProcessors(config.domains));
    this.router = new SubmissionRouter({
      processors: this.processors,
      partitionCount: this.partitionCount,
      threads: links.length,
      counts: this.localCounts,
      refusal: () => (this.closing || this.failure ? (this.failure ?? new EngineClosedError()) : undefined),
      send: (thread, submissions) => links[thread].send({ kind: 'submit', submissions }),
      sendLogged: (thread, sub, partition, entries) => links[thread].send({ kind: 'logged', sub, partition, entries }),
    });
    this.changelog = new ChangelogLink((slot, m) => links[slot].send(m));
    if (config.rewriteAfterErasure !== false) {
      const rewrite = () => rewriteSharedStore(links, this.reader, config, () => this.failure);
      this.rewrites = new RewriteSchedule(config.scrubDelayMs ?? 0, rewrite, (error) => this.fail(error));
    }
    // Another process may write the dir now: stop the writers at once, then refuse events.
    dataDir.onLost((error) => {
      for (const link of links) void link.terminate();
      this.fail(error);
    });
  }

  // ---- input ---------------------------------------------------------------------------

  /**
   * Applies events in order per key; resolves with one result each once durable (an event other
   * partitions read goes first: submission-cut.ts).
   */
  submit(events: readonly unknown[]): Promise<EventResult[]> {
    // From close on: refused here, while a request cut in two before it still sends its second part.
    if (this.closed && !this.failure) return Promise.reject(new EngineClosedError());
    return this.router.submit(events);
  }

  /** As Engine.submitLogged, on the engine thread applying `partition`. */
  submitLogged(partition: number, entries: readonly LogEntry[]): Promise<EventResult[]> {
    const problem = loggedCallProblem(partition, entries, this.partitionCount, () => true);
    return problem ? Promise.reject(problem) : this.router.logged(partition, entries);
  }

  /** As Engine.logPosition: from the committed state, which every answer has refreshed. */
  logPosition(partition: number): number {
    return this.reader.view.get<number>(logKey(partition)) ?? 0;
  }

  /** As Engine.setRemote: every engine thread gets the local partitions as a list. */
  setRemote(remote: RemotePartitions | undefined): void {
    const local = remote ? localPartitions(remote) : null;
    this.remote = remote;
    if (!this.failure) this.broadcast({ kind: 'remote', local });
  }

  /** As Engine.setReplicator: called here, each engine thread waiting for its batches' seqs (changelog-link.ts). */
  setReplicator(replicator: Replicator | undefined): void {
    this.changelog.set(replicator, this.failure ? 0 : this.links.length);
  }

  /** As Engine.applyChanges, on the engine thread keeping `partition`. */
  applyChanges(partition: number, changes: Array<{ seq: number; change: PartitionChange }>): Promise<void> {
    if (this.closing || this.failure) return Promise.reject(this.failure ?? new EngineClosedError());
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitionCount) return Promise.reject(new RangeError(`partition must be an integer from 0 to ${this.partitionCount - 1} (got ${String(partition)})`));
    // Durable once answered: reads from now on must see it.
    return this.changelog.apply(this.router.threadOf(partition), partition, changes).then(() => this.reader.refresh());
  }

  /** As Engine.changelogPosition: from the committed state. */
  changelogPosition(partition: number): number {
    return this.reader.view.get<number>(changelogKey(partition)) ?? 0;
  }

  /** As Engine.derivedSent: each key to the engine thread applying its source partition (its prefix). */
  derivedSent(outboxKeys: readonly string[]): void {
    const bySlot = new Map<number, string[]>();
    for (const key of Array.isArray(outboxKeys) ? outboxKeys : []) {
      const source = typeof key === 'string' ? Number(key.slice(0, key.indexOf('/'))) : NaN;
      if (!Number.isInteger(source) || source < 0 || source >= this.partitionCount) continue;
      const slot = this.router.threadOf(source);
      const keys = bySlot.get(slot);
      if (keys) keys.push(key);
      else bySlot.set(slot, [key]);
    }
    for (const [slot, keys] of bySlot) this.links[slot].send({ kind: 'sent', keys });
  }

  private broadcast(message: ToEngine): void {
    for (const link of this.links) link.send(message);
  }

  /** A message from engine thread `slot`. */
  receive(slot: number, m: FromEngine): void {
    switch (m.kind) {
      case 'answers':
        // Everything answered is committed: reads from now on must see it.
        this.reader.refresh();
        for (const [part, results, failure] of unpack<PackedAnswer[]>(m.answers)) this.router.answer(part, results, failure);
        return;
      case 'outputs':
        this.reader.refresh();
        this.listeners.outputs(unpack<Output[]>(m.outputs));
        return;
      case 'relay':
        this.relayOn(unpack<DerivedWire[]>(m.items));
        return;
      case 'remote':
        this.remote?.send(unpack<RemoteDerived[]>(m.items));
        return;
      case 'unheard':
        this.remote?.answered?.(unpack<EventResult[]>(m.answers));
        return;
      case 'batch':
        this.listeners.batch(m.stats);
        return;
      case 'stats':
        this.threadStats[slot] = m.engine;
        return;
      case 'returned':
        this.reader.refresh();
        return;
      case 'fatal':
        this.fail(new Error(m.message));
        return;
      case 'scrub':
        this.rewrites?.request();
        return;
      case 'replicate':
        this.changelog.replicate(slot, m);
        return;
      case 'changes-applied':
        this.changelog.applied(m);
        return;
      default:
        return;
    }
  }

  /** Derived events one engine thread emitted, to the threads applying their partitions. */
  private relayOn(items: DerivedWire[]): void {
    const bySlot = new Map<number, DerivedWire[]>();
    for (const item of items) {
      const slot = this.router.threadOf(item[3]);
      const list = bySlot.get(slot);
      if (list) list.push(item);
      else bySlot.set(slot, [item]);
    }
    for (const [slot, list] of bySlot) this.links[slot].send({ kind: 'derived', items: pack(list) });
    this.relayed += items.length;
  }

  /** An engine thread failed or the dir was lost: nothing more is answered. */
  fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    console.error('engine stopped; refusing further events:', error);
    this.router.failAll(error);
    this.changelog.failAll(error);
    for (const link of this.links) {
      link.release();
      // The others stop too, committing what they hold (answered to nobody: a retry finds it):
      // ended mid-commit instead, a thread holding LMDB can take the process down with it.
      void link.close(true);
    }
    this.listeners.fatal(error);
  }

  // ---- reads and listeners -------------------------------------------------------------

  snapshot(topic: string): { seq: number; epoch: string; data: unknown } | undefined {
    const snapshot = topicSnapshot(this.reader.view, this.processors.ofTopic(topic), topic);
    return snapshot && { ...snapshot, epoch: this.epoch };
  }

  lastSeq(topic: string): number {
    return storedSeq(this.reader.view, this.processors.ofTopic(topic), topic);
  }

  query(processor: string, name: string, args: Record<string, unknown>): unknown {
    return this.processors.byName.get(processor)?.query?.(this.reader.view, name, args);
  }

  read<T>(key: string): T | undefined {
    return this.reader.view.get<T>(key);
  }

  checkpoint(partition: number): number {
    return this.reader.view.get<number>(checkpointKey(partition)) ?? 0;
  }

  /**
   * Without a predicate every changed state topic is rendered; with one, only the topics
   * named through `watch` (the push layer names each topic it starts and stops keeping).
   */
  setInterest(predicate: ((topic: string) => boolean) | undefined): void {
    this.watching = predicate !== undefined;
    this.sendInterest();
  }

  private sendInterest(): void {
    this.broadcast({ kind: 'interest', render: this.outputListeners === 0 ? 'none' : this.watching ? 'watched' : 'all' });
  }

  /**
   * Sent at once: the sooner the engine threads render the topic, the fewer updates they skip.
   * To every thread (the one applying the topic's partition renders it).
   */
  watch(topic: string, watched: boolean): void {
    if (this.failure) return;
    this.broadcast(watched ? { kind: 'watch', add: [topic], drop: [] } : { kind: 'watch', add: [], drop: [topic] });
  }

  onOutput(listener: (outputs: Output[]) => void): () => void {
    const stop = this.listeners.onOutput(listener);
    if (++this.outputListeners === 1) this.sendInterest();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      stop();
      if (--this.outputListeners === 0) this.sendInterest();
    };
  }

  onBatch(listener: (s: BatchStats) => void): () => void {
    return this.listeners.onBatch(listener);
  }

  onFatal(listener: (err: Error) => void): () => void {
    return this.listeners.onFatal(listener);
  }

  stats(): EngineStats {
    const counts = new Map<string, number>();
    const add = (entries: Iterable<[string, number]>) => {
      for (const [key, n] of entries) counts.set(key, (counts.get(key) ?? 0) + n);
    };
    add(this.localCounts.byTypeAndResult());
    let batches = 0;
    let pendingTimers = 0;
    let queued = 0;
    const partitions: EngineStats['partitions'] = [];
    this.threadStats.forEach((t, slot) => {
      add(t.counts);
      batches += t.batches;
      pendingTimers += t.pendingTimers;
      queued += t.queued;
      // Each partition as the thread applying it sees it.
      for (const p of t.partitions) if (this.router.threadOf(p.partition) === slot) partitions[p.partition] = p;
    });
    return { eventsByTypeAndResult: counts, batches, pendingTimers, queued, partitions, storeRewrites: this.rewrites && { ...this.rewrites.stats } };
  }

  /** Which engine thread applies which partitions; this thread applies none. */
  layout(): EngineLayout {
    return this.engineLayout;
  }

  stateStats(): { entries: number; bytes: number } {
    return this.reader.stats();
  }

  // ---- lifecycle -----------------------------------------------------------------------

  /**
   * Resolves when nothing is queued or in flight on any engine thread, and no derived event is
   * on its way between them: each goes idle, again until a round passes no event along.
   */
  async idle(): Promise<void> {
    // Closing or closed: the engine threads may be gone, and close() itself waits for everything.
    if (this.closed) return this.closed.then(() => undefined, () => undefined);
    return this.quiesce();
  }

  private async quiesce(): Promise<void> {
    if (this.failure) return;
    for (;;) {
      const relayed = this.relayed;
      // A request cut in two (submission-cut.ts) is answered whole, with those held behind it.
      await this.router.settled();
      // Submissions still waiting for their turn go first: idle waits for them too.
      this.router.flush();
      await Promise.all(this.links.map((l) => l.call('idle')));
      if (this.failure || this.relayed === relayed) return;
    }
  }

  /** As Engine.scrubbed: resolves once every store rewrite asked for by a batch answered before this call has ended. */
  scrubbed(): Promise<void> {
    return this.rewrites?.settled() ?? Promise.resolve();
  }

  /** Fires every timer due now and waits until their effects (on every thread) are durable. */
  async runDueTimers(): Promise<number> {
    if (this.closed) return this.closed.then(() => 0, () => 0);
    if (this.failure) return 0;
    this.router.flush();
    const fired = await Promise.all(this.links.map((l) => l.call('timers')));
    await this.quiesce();
    return fired.reduce((a, b) => a + b, 0);
  }

  /** Stops taking events, commits everything queued or in flight, then closes. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.router.flush();
      // A request cut in two before close is applied whole (and those held behind it).
      await this.router.settled();
      this.closing = true;
      this.changelog.closing = true;
      // Everything in flight ends first, derived events between the threads included; a timer
      // firing later emits into the outbox, which the next start applies.
      await this.quiesce();
      // One asked for and not run yet runs now, so a clean close leaves no erased data in the files.
      await this.rewrites?.finish();
      await Promise.all(this.links.map((l) => l.close(!this.failure)));
      try {
        await this.reader.close();
      } finally {
        this.dataDir.release();
      }
    })();
    return this.closed;
  }
}
