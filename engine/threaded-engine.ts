// The engine on a thread of its own: this side, on the thread that takes requests and pushes
// updates, checks and builds each event (so only valid events cross), hands them over, and
// answers once the engine's thread reports them durable; snapshots, reads and queries read the
// committed state directly (committed-reader.ts). The engine's thread applies, commits and
// renders (engine-thread.ts). Same answers, seqs, epoch and crash guarantees as the engine in
// this thread: it is the same engine, fed the same events in the same order.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CommittedReader } from './committed-reader.ts';
import { openEngine, type Engine } from './engine.ts';
import { DataDirLock, DataDirLockLostError } from './data-dir-lock.ts';
import { EngineClosedError, PartitionCountMismatchError } from './errors.ts';
import { admitEvent } from './event-builder.ts';
import { EventCounts } from './event-counts.ts';
import { EngineListeners } from './listeners.ts';
import { checkpointKey } from './partitions.ts';
import { defaultProcessors } from './processors.ts';
import { pack, unpack, type EngineThreadConfig, type EngineThreadStats, type FromEngine, type PackedAnswer, type PackedSubmission, type ToEngine, transferList } from './thread-messages.ts';
import { ProcessorIndex } from './processor-index.ts';
import { storedSeq, topicSnapshot } from './topic-seqs.ts';
import type { BatchStats, EngineLayout, EngineStats, EventResult, Output } from './types.ts';

export interface ThreadedEngineOptions extends EngineThreadConfig {
  /** The data dir, already taken by the caller; without it the engine takes it. Released on close. */
  dataDirLock?: DataDirLock;
}

interface OpenSubmission {
  results: EventResult[];
  /** Where each event sent to the engine's thread goes in `results`. */
  slots: number[];
  resolve(results: EventResult[]): void;
  reject(error: Error): void;
}

/** Starts the engine's thread: the compiled file, or the TypeScript source through tsx. */
function startThread(config: EngineThreadConfig): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./engine-thread.js', here), { workerData: config });
  const entry = new URL('./engine-thread.ts', here).href;
  // tsx's ESM entry (the one `import` picks), found from its package file.
  const tsxPackage = createRequire(here).resolve('tsx/package.json');
  const exports = (createRequire(here)('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }).exports;
  const tsx = new URL(exports['./esm/api'].import.default, pathToFileURL(tsxPackage)).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: config });
}

/** The engine's refusal to start, as the same class where the caller handles it (a partition count). */
function startFailure(m: Extract<FromEngine, { kind: 'start-failed' }>): Error {
  if (m.mismatch) return new PartitionCountMismatchError(m.mismatch.dir, m.mismatch.stored, m.mismatch.requested);
  return Object.assign(new Error(m.message), { name: m.name });
}

export async function openThreadedEngine(options: ThreadedEngineOptions): Promise<ThreadedEngine> {
  const { dataDirLock, ...config } = options;
  const lock = dataDirLock ?? DataDirLock.acquire(options.path);
  let worker: Worker | undefined;
  let stopWatchingLock: (() => void) | undefined;
  let ready: Extract<FromEngine, { kind: 'ready' }>;
  try {
    // In the try: a config the thread cannot be given (not plain data) throws here, and the dir goes back.
    const started = (worker = startThread(config));
    ready = await new Promise((resolve, reject) => {
      const onMessage = (m: FromEngine) => {
        if (m.kind === 'ready') resolve(m);
        else if (m.kind === 'start-failed') reject(startFailure(m));
        else return;
        started.off('message', onMessage);
        started.off('error', reject);
      };
      started.on('message', onMessage);
      started.once('error', reject);
      // Lost while the thread starts (the engine is not listening yet): the start is refused.
      stopWatchingLock = lock.onLost(reject);
      if (!lock.held) reject(new DataDirLockLostError(lock.dir, 'it was lost before the engine thread started'));
      started.once('exit', (code) => reject(new Error(`the engine thread exited (${code}) while starting`)));
    });
  } catch (error) {
    stopWatchingLock?.();
    await worker?.terminate();
    lock.release();
    throw error;
  }
  stopWatchingLock?.();
  return new ThreadedEngine(worker, config, lock, ready.epoch, ready.layout, ready.stats);
}

export class ThreadedEngine {
  private readonly reader: CommittedReader;
  private readonly processors: ProcessorIndex;
  private readonly listeners = new EngineListeners();
  /** Events refused before they reach the engine's thread (invalid), counted here. */
  private readonly localCounts = new EventCounts();
  private threadStats: EngineThreadStats;

  private nextSub = 1;
  private readonly open = new Map<number, OpenSubmission>();
  private outgoing: PackedSubmission[] = [];
  private sendScheduled = false;
  private nextCall = 1;
  private readonly calls = new Map<number, (value: number) => void>();
  private closing = false;
  /** Output listeners here: with none, the engine's thread renders nothing. */
  private outputListeners = 0;
  /** Whether the push layer names the topics to render (setInterest with a predicate). */
  private watching = false;
  private failure: Error | undefined;
  private closed: Promise<void> | undefined;
  private threadClosed: (() => void) | undefined;
  /** The engine's thread said it closed cleanly: its exit after that is expected. */
  private closedByThread = false;
  /** Settles when the engine's thread has ended, for whatever reason. */
  private readonly exited: Promise<void>;

  constructor(
    private readonly worker: Worker,
    config: EngineThreadConfig,
    private readonly dataDir: DataDirLock,
    readonly epoch: string,
    private readonly engineLayout: EngineLayout,
    /** The engine's figures as it started (timers it holds from before, checkpoints), until its first batch. */
    startStats: EngineThreadStats,
  ) {
    // Opened once the engine's thread has opened the environment with its own settings.
    this.reader = new CommittedReader(config);
    this.threadStats = startStats;
    this.processors = new ProcessorIndex(defaultProcessors(config.domains));
    worker.on('message', (m: FromEngine) => this.onMessage(m));
    worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    // An exit before the thread said it closed is a death, also while closing (else close() would wait forever).
    worker.on('exit', (code) => {
      if (!this.closedByThread) this.fail(new Error(`the engine thread exited (${code})`));
    });
    // Another process may write the dir now: stop the writer at once, then refuse events.
    dataDir.onLost((error) => {
      void worker.terminate();
      this.fail(error);
    });
  }

  // ---- input ---------------------------------------------------------------------------

  /** Applies events in order; resolves with one result each once their batch is durable. */
  submit(events: readonly unknown[]): Promise<EventResult[]> {
    if (this.closing || this.failure) return Promise.reject(this.failure ?? new EngineClosedError());
    const results: EventResult[] = new Array(events.length);
    const slots: number[] = [];
    const built: PackedSubmission[1] = [];
    const arrival = Date.now();
    for (let i = 0; i < events.length; i++) {
      const admitted = admitEvent(events[i], this.processors.byType, this.localCounts);
      if (admitted.refused) {
        results[i] = admitted.refused;
        continue;
      }
      const b = admitted.built;
      slots.push(i);
      built.push([b.event, b.digest, arrival]);
    }
    if (slots.length === 0) return Promise.resolve(results);
    return new Promise<EventResult[]>((resolve, reject) => {
      const sub = this.nextSub++;
      this.open.set(sub, { results, slots, resolve, reject });
      this.outgoing.push([sub, built]);
      if (this.sendScheduled) return;
      this.sendScheduled = true;
      // Every request read in this turn of the event loop goes over in one message.
      setImmediate(() => this.sendSubmissions());
    });
  }

  private sendSubmissions(): void {
    this.sendScheduled = false;
    if (this.outgoing.length === 0 || this.failure) return;
    const submissions = pack(this.outgoing);
    this.outgoing = [];
    this.send({ kind: 'submit', submissions });
  }

  private send(message: ToEngine): void {
    this.worker.postMessage(message, transferList(message));
  }

  private onMessage(m: FromEngine): void {
    switch (m.kind) {
      case 'answers':
        // Everything answered is committed: reads from now on must see it.
        this.reader.refresh();
        for (const [sub, results, failure] of unpack<PackedAnswer[]>(m.answers)) this.answer(sub, results, failure);
        return;
      case 'outputs':
        this.reader.refresh();
        this.listeners.outputs(unpack<Output[]>(m.outputs));
        return;
      case 'batch':
        this.listeners.batch(m.stats);
        return;
      case 'stats':
        this.threadStats = m.engine;
        return;
      case 'returned':
        this.reader.refresh();
        this.calls.get(m.call)?.(m.value);
        this.calls.delete(m.call);
        return;
      case 'fatal':
        this.fail(new Error(m.message));
        return;
      case 'closed':
        this.closedByThread = true;
        this.threadClosed?.();
        return;
    }
  }

  private answer(sub: number, results: EventResult[] | null, failure: string | undefined): void {
    const s = this.open.get(sub);
    if (!s) return;
    this.open.delete(sub);
    if (results === null) {
      s.reject(new Error(failure));
      return;
    }
    for (let i = 0; i < s.slots.length; i++) s.results[s.slots[i]] = results[i];
    s.resolve(s.results);
  }

  /** The engine's thread failed or the dir was lost: nothing more is answered. */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    console.error('engine stopped; refusing further events:', error);
    for (const s of this.open.values()) s.reject(error);
    this.open.clear();
    for (const done of this.calls.values()) done(0);
    this.calls.clear();
    this.threadClosed?.();
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
    this.send({ kind: 'interest', render: this.outputListeners === 0 ? 'none' : this.watching ? 'watched' : 'all' });
  }

  /** Sent at once: the sooner the engine's thread renders the topic, the fewer updates it skips. */
  watch(topic: string, watched: boolean): void {
    if (this.failure) return;
    this.send(watched ? { kind: 'watch', add: [topic], drop: [] } : { kind: 'watch', add: [], drop: [topic] });
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
    const counts = new Map(this.threadStats.counts);
    for (const [key, n] of this.localCounts.byTypeAndResult()) counts.set(key, (counts.get(key) ?? 0) + n);
    const { counts: _, ...rest } = this.threadStats;
    return { eventsByTypeAndResult: counts, ...rest };
  }

  /** The engine's thread applies every partition; this one applies none. */
  layout(): EngineLayout {
    return this.engineLayout;
  }

  stateStats(): { entries: number; bytes: number } {
    return this.reader.stats();
  }

  // ---- lifecycle -----------------------------------------------------------------------

  private call(name: 'idle' | 'timers'): Promise<number> {
    if (this.failure) return Promise.resolve(0);
    // Closing or closed: the engine's thread may be gone, and close() itself waits for everything.
    if (this.closed) return this.closed.then(() => 0, () => 0);
    // Submissions still waiting for their turn go first: the call waits for them too.
    this.sendSubmissions();
    const call = this.nextCall++;
    return new Promise((resolve) => {
      this.calls.set(call, resolve);
      this.send({ kind: 'call', call, name });
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async idle(): Promise<void> {
    await this.call('idle');
  }

  /** Fires every timer due now and waits until their effects are durable. */
  runDueTimers(): Promise<number> {
    return this.call('timers');
  }

  /** Stops taking events, commits everything queued or in flight, then closes. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.sendSubmissions();
      this.closing = true;
      if (!this.failure) {
        await new Promise<void>((resolve) => {
          this.threadClosed = resolve;
          this.send({ kind: 'close' });
        });
      }
      // Left to end by itself (its profile, if any, is written then); ended if it does not.
      const timeout = setTimeout(() => void this.worker.terminate(), this.failure ? 0 : 2000);
      await this.exited;
      clearTimeout(timeout);
      try {
        await this.reader.close();
      } finally {
        this.dataDir.release();
      }
    })();
    return this.closed;
  }
}

/**
 * The engine as `omni serve --workers N` runs it: in the calling thread for 1, on a thread of
 * its own for 2 or more. Both offer the same calls.
 */
export async function openEngineWithWorkers(workers: number, options: ThreadedEngineOptions): Promise<Engine | ThreadedEngine> {
  if (workers > 1) return openThreadedEngine(options);
  const { domains, ...rest } = options;
  return openEngine({ ...rest, processors: defaultProcessors(domains) });
}
