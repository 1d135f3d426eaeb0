// Submissions on their way to the engine threads (threaded-engine.ts): each event checked and
// built here, then sent to the thread applying its partition — every submission read in one
// turn of the event loop in one message per thread — and the answers of each thread's part put
// back in the order the events came.

import { admitEvent } from './event-builder.ts';
import type { EventCounts } from './event-counts.ts';
import { partitionOf } from './partitions.ts';
import { SubmissionCutter } from './submission-cut.ts';
import type { ProcessorIndex } from './processor-index.ts';
import type { LogEntry } from './log-positions.ts';
import { pack, type PackedSubmission, type Payload } from './thread-messages.ts';
import type { EventResult } from './types.ts';

interface OpenSubmission {
  results: EventResult[];
  /** Parts (one per engine thread it went to) not yet answered. */
  remaining: number;
  resolve(results: EventResult[]): void;
  reject(error: Error): void;
}

/** The events of a submission one engine thread applies, and where each goes in `results`. */
interface Part {
  sub: OpenSubmission;
  slots: number[];
}

export interface RouterDeps {
  processors: ProcessorIndex;
  partitionCount: number;
  threads: number;
  /** Events refused here (invalid), counted by type and code. */
  counts: EventCounts;
  /** Why no event is taken now (closing, stopped), or undefined. */
  refusal(): Error | undefined;
  send(thread: number, submissions: Payload): void;
  /** Entries of partition `partition`'s log, to engine thread `thread`, answered as part `part`. */
  sendLogged(thread: number, part: number, partition: number, entries: Payload): void;
}

export class SubmissionRouter {
  private nextPart = 1;
  private readonly parts = new Map<number, Part>();
  private readonly open = new Set<OpenSubmission>();
  private outgoing: PackedSubmission[][];
  private sendScheduled = false;
  /** failAll was called: nothing more goes out. */
  private stopped = false;
  private readonly cutter: SubmissionCutter;

  constructor(private readonly deps: RouterDeps) {
    this.outgoing = Array.from({ length: deps.threads }, () => []);
    // Each engine thread commits its partitions' batches on its own.
    const placeOf = deps.threads > 1 ? (key: string) => this.threadOf(partitionOf(key, deps.partitionCount)) : undefined;
    this.cutter = new SubmissionCutter(deps.processors, (events) => this.route(events), placeOf);
  }

  /** The engine thread applying partition `p`. */
  threadOf(p: number): number {
    return p % this.deps.threads;
  }

  /**
   * Applies events in order per key; resolves with one result each once durable. An event other
   * partitions read followed by more is applied first, and the rest after its answer
   * (submission-cut.ts).
   */
  submit(events: readonly unknown[]): Promise<EventResult[]> {
    return this.cutter.submit(events);
  }

  /** Settles once no request cut in two is under way, nor any held back behind one. */
  settled(): Promise<void> {
    return this.cutter.settled();
  }

  private route(events: readonly unknown[]): Promise<EventResult[]> {
    const refusal = this.deps.refusal();
    if (refusal) return Promise.reject(refusal);
    const results: EventResult[] = new Array(events.length);
    const bySlot = new Map<number, { slots: number[]; built: PackedSubmission[1] }>();
    const arrival = Date.now();
    for (let i = 0; i < events.length; i++) {
      const admitted = admitEvent(events[i], this.deps.processors.byType, this.deps.counts);
      if (admitted.refused) {
        results[i] = admitted.refused;
        continue;
      }
      const b = admitted.built;
      const slot = this.threadOf(partitionOf(admitted.processor.partitionKey(b.event), this.deps.partitionCount));
      let part = bySlot.get(slot);
      if (!part) bySlot.set(slot, (part = { slots: [], built: [] }));
      part.slots.push(i);
      part.built.push([b.event, b.digest, arrival]);
    }
    if (bySlot.size === 0) return Promise.resolve(results);
    return new Promise<EventResult[]>((resolve, reject) => {
      const sub: OpenSubmission = { results, remaining: bySlot.size, resolve, reject };
      this.open.add(sub);
      for (const [slot, { slots, built }] of bySlot) {
        const id = this.nextPart++;
        this.parts.set(id, { sub, slots });
        this.outgoing[slot].push([id, built]);
      }
      if (this.sendScheduled) return;
      this.sendScheduled = true;
      // Every request read in this turn of the event loop goes over in one message per thread.
      setImmediate(() => this.flush());
    });
  }

  /**
   * Entries of one partition's log, to the engine thread applying it, built there (it knows the
   * log position); after the submissions taken before, which go first.
   */
  logged(partition: number, entries: readonly LogEntry[]): Promise<EventResult[]> {
    const refusal = this.deps.refusal();
    if (refusal) return Promise.reject(refusal);
    this.flush();
    return new Promise<EventResult[]>((resolve, reject) => {
      const sub: OpenSubmission = { results: new Array(entries.length), remaining: 1, resolve, reject };
      this.open.add(sub);
      const id = this.nextPart++;
      this.parts.set(id, { sub, slots: entries.map((_, i) => i) });
      this.deps.sendLogged(this.threadOf(partition), id, partition, pack(entries));
    });
  }

  /** Sends what waits now (before a call that must come after it). */
  flush(): void {
    this.sendScheduled = false;
    if (this.stopped) return;
    this.outgoing.forEach((out, thread) => {
      if (out.length === 0) return;
      this.outgoing[thread] = [];
      this.deps.send(thread, pack(out));
    });
  }

  /** The answers of one part, from the engine thread that applied it (null: it failed). */
  answer(id: number, results: EventResult[] | null, failure: string | undefined): void {
    const part = this.parts.get(id);
    if (!part) return;
    this.parts.delete(id);
    const sub = part.sub;
    if (!this.open.has(sub)) return;
    if (results === null) {
      this.open.delete(sub);
      sub.reject(new Error(failure));
      return;
    }
    for (let i = 0; i < part.slots.length; i++) sub.results[part.slots[i]] = results[i];
    if (--sub.remaining > 0) return;
    this.open.delete(sub);
    sub.resolve(sub.results);
  }

  /** Nothing more will be answered: every submission waiting is refused with `error`. */
  failAll(error: Error): void {
    this.stopped = true;
    for (const s of this.open) s.reject(error);
    this.open.clear();
    this.parts.clear();
  }
}
