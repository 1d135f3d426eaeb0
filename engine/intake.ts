// Where events enter the engine: each checked and built (or taken already built from the thread
// that took it in), then answered from dedup, joined to its twin in flight, refused, or queued
// for its batch; and where answers leave, once their batch is durable, to the submissions
// waiting for them.

import type { DedupIndex } from './dedup.ts';
import { rejection } from './errors.ts';
import { admitEvent, unknownType } from './event-builder.ts';
import type { EventCounts } from './event-counts.ts';
import type { DerivedItem, EventItem, Item, Submission } from './items.ts';
import type { LogEntry } from './log-positions.ts';
import type { Partitions } from './partitions.ts';
import { isLoggedDerived } from './remote-partitions.ts';
import type { EventResult, InputEvent, LoggedDerived, PrebuiltEvent, Processor } from './types.ts';

/** What the intake needs of the engine; dedup and partitions exist only once it has started. */
export interface IntakeDeps {
  owners: ReadonlyMap<string, Processor>;
  counts: EventCounts;
  dedup(): DedupIndex;
  partitions(): Partitions;
  queue(): Item[];
  maxQueued: number;
  /** A log entry's derived event, built (remote-partitions.ts derivedOfLog), or its refusal. */
  derivedOfLog(partition: number, entry: LoggedDerived, arrival: number): { item: DerivedItem } | { refused: EventResult };
}

export class Intake {
  /** Events queued or in a batch not yet durable, by id: a retry meanwhile waits for the same answer. */
  private readonly inFlightIds = new Map<string, EventItem>();
  private readonly open = new Set<Submission>();
  /** Retries of events left pending before this process started: waiting for their answer. */
  private readonly awaiting = new Map<string, Array<{ sub: Submission; index: number }>>();

  constructor(private readonly deps: IntakeDeps) {}

  /** Takes raw events arriving at `arrival`; resolves once each has its answer. */
  accept(events: readonly unknown[], arrival: number): Promise<EventResult[]> {
    return this.take(events.length, (sub, i) => {
      const admitted = admitEvent(events[i], this.deps.owners, this.deps.counts);
      if (admitted.refused) sub.results[i] = admitted.refused;
      else this.enqueue(sub, i, admitted.built.event, admitted.built.digest, admitted.processor, arrival);
    });
  }

  /** Takes events already built and checked, each with its digest and arrival time. */
  acceptBuilt(events: readonly PrebuiltEvent[]): Promise<EventResult[]> {
    return this.take(events.length, (sub, i) => {
      const [event, digest, arrival] = events[i];
      const processor = this.deps.owners.get(event.type);
      if (processor) this.enqueue(sub, i, event, digest, processor, arrival);
      else sub.results[i] = { id: event.id, ok: false, error: unknownType(event.type) };
    });
  }

  /**
   * Takes the entries of partition `partition`'s log (checked by loggedCallProblem): each built
   * and deduplicated like a submitted event, queued with its seq, whose batch then commits the
   * position. An entry at or below the committed position was applied before (a reader
   * re-delivering after a crash): answered, never queued. No queue limit: the reader bounds what
   * it has in flight, and an entry refused `rate_limited` would leave a hole below the position.
   * An entry may carry a derived event another node emitted (LoggedDerived): applied once by its
   * id (remote-partitions.ts), answered `{id, ok: true}` (with `duplicate` when it was applied
   * before), as nobody waits for it.
   */
  acceptLogged(partition: number, entries: readonly LogEntry[], arrival: number): Promise<EventResult[]> {
    const committed = this.deps.partitions().logs.committed(partition);
    // The highest seq answered without being queued after the last queued entry: a mark moves the position past it.
    let mark = 0;
    const answers = this.take(entries.length, (sub, i) => {
      const entry = entries[i];
      const { seq } = entry;
      const replay = seq <= committed;
      if (isLoggedDerived(entry)) {
        const queued = this.enqueueDerived(sub, i, partition, entry, replay, arrival);
        if (queued) mark = 0;
        else if (!replay) mark = seq;
        return;
      }
      const raw = entry.event;
      const admitted = admitEvent(raw, this.deps.owners, this.deps.counts);
      let queued = false;
      if (admitted.refused) sub.results[i] = admitted.refused;
      else {
        const { event, digest } = admitted.built;
        const keyed = this.deps.partitions().of(admitted.processor.partitionKey(event));
        if (keyed !== partition) {
          this.deps.counts.count(event.type, 'wrong_partition');
          sub.results[i] = { id: event.id, ...rejection('wrong_partition', `event '${event.id}' belongs to partition ${keyed}, not to the log of partition ${partition}`) };
        } else queued = this.enqueue(sub, i, event, digest, admitted.processor, arrival, replay ? 'replay' : seq);
      }
      if (queued) mark = 0;
      else if (!replay) mark = seq;
    });
    if (mark > 0) this.deps.queue().push({ kind: 'log', partition, seq: mark });
    return answers;
  }

  private enqueueDerived(sub: Submission, index: number, partition: number, entry: LoggedDerived, replay: boolean, arrival: number): boolean {
    const built = this.deps.derivedOfLog(partition, entry, arrival);
    if ('refused' in built) sub.results[index] = built.refused;
    else if (replay) sub.results[index] = { id: built.item.event.id, ok: true, duplicate: true };
    else {
      const { item } = built;
      item.logged = { seq: entry.seq, sub, index };
      this.deps.queue().push(item);
      sub.remaining++;
      return true;
    }
    return false;
  }

  /** The batch applying a derived event read from a log is durable: its entry is answered. */
  answeredLogged(item: DerivedItem): void {
    const { sub, index, duplicate } = item.logged!;
    this.deliver(sub, index, duplicate ? { id: item.event.id, ok: true, duplicate } : { id: item.event.id, ok: true });
  }

  private take(count: number, one: (sub: Submission, index: number) => void): Promise<EventResult[]> {
    return new Promise<EventResult[]>((resolve, reject) => {
      const sub: Submission = { results: new Array(count), remaining: 0, resolve, reject };
      for (let i = 0; i < count; i++) one(sub, i);
      if (sub.remaining === 0) return resolve(sub.results);
      this.open.add(sub);
    });
  }

  /**
   * A valid event: answered from dedup, joined to its in-flight twin, or queued (then true). A
   * log entry (`logged`) is queued with its seq, or — `replay`, applied before — answered as a
   * duplicate even when dedup has forgotten it.
   */
  private enqueue(sub: Submission, index: number, event: InputEvent, digest: number, processor: Processor, arrival: number, logged?: number | 'replay'): boolean {
    const id = event.id;
    const inFlight = this.inFlightIds.get(id);
    if (inFlight) {
      if (inFlight.digest !== digest) return this.refuseConflict(sub, index, event);
      (inFlight.duplicates ??= []).push({ sub, index });
      sub.remaining++;
      return false;
    }
    const first = this.deps.dedup().lookup(id, arrival);
    if (first) {
      if (first.digest !== undefined && first.digest !== digest) return this.refuseConflict(sub, index, event);
      if (first.answer.pending === true) {
        // Its saga was under way when this process started, and goes on: wait for its answer.
        const waiting = this.awaiting.get(id) ?? [];
        waiting.push({ sub, index });
        this.awaiting.set(id, waiting);
        sub.remaining++;
        return false;
      }
      sub.results[index] = { id, ...first.answer, duplicate: true } as EventResult;
      return false;
    }
    if (logged === 'replay') {
      sub.results[index] = { id, ok: true, duplicate: true };
      return false;
    }
    const queue = this.deps.queue();
    if (logged === undefined && queue.length >= this.deps.maxQueued) {
      sub.results[index] = { id, ...rejection('rate_limited', 'the engine queue is full; retry later') };
      return false;
    }
    const item: EventItem = {
      kind: 'event',
      event,
      digest,
      processor,
      partition: this.deps.partitions().of(processor.partitionKey(event)),
      arrival,
      sub,
      index,
    };
    if (logged !== undefined) item.logSeq = logged;
    this.inFlightIds.set(id, item);
    queue.push(item);
    sub.remaining++;
    return true;
  }

  /** The id was used for another event: answered, not applied, not remembered. */
  private refuseConflict(sub: Submission, index: number, event: InputEvent): false {
    this.deps.counts.count(event.type, 'id_conflict');
    sub.results[index] = {
      id: event.id,
      ...rejection('id_conflict', `event id '${event.id}' was already used for an event with other content`),
    };
    return false;
  }

  /**
   * The event's batch is durable: its answer goes to its submission and to every twin's. A
   * pending event stays in flight (its twins keep joining it) until `answerPending`.
   */
  answered(item: EventItem): void {
    if (item.pending && item.result === undefined) return;
    if (this.inFlightIds.get(item.event.id) === item) this.inFlightIds.delete(item.event.id);
    this.deliver(item.sub, item.index, item.result!);
    if (item.duplicates) {
      for (const d of item.duplicates) this.deliver(d.sub, d.index, { ...item.result!, duplicate: true });
    }
  }

  /** The batch answering a pending event is durable: its answer goes to whoever waits for it (false: nobody here). */
  answerPending(id: string, result: EventResult): boolean {
    const item = this.inFlightIds.get(id);
    if (item?.pending) {
      item.result = result;
      this.answered(item);
    }
    const waiting = this.awaiting.get(id);
    if (waiting) {
      this.awaiting.delete(id);
      for (const w of waiting) this.deliver(w.sub, w.index, { ...result, duplicate: true });
    }
    return item?.pending === true || waiting !== undefined;
  }

  private deliver(sub: Submission, index: number, result: EventResult): void {
    sub.results[index] = result;
    if (--sub.remaining === 0) {
      this.open.delete(sub);
      sub.resolve(sub.results);
    }
  }

  /** Nothing more will be answered (a failed commit): every waiting submission is told. */
  failAll(error: Error): void {
    for (const sub of this.open) sub.reject(error);
    this.open.clear();
    this.awaiting.clear();
  }
}
