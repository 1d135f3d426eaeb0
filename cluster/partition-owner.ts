// The node that owns a partition applies its log: a reader from the position the engine
// committed, each batch handed to the engine (which commits the log position with the state, so
// nothing is applied twice), the answers sent to the nodes that logged the events, and questions
// about answers that went missing answered once their entries are applied.

import type { Subscription } from '@nats-io/transport-node';
import type { EventResult, LogEntry, LoggedDerived } from '../engine/mod.ts';
import type { LoggedEngine } from './node-engine.ts';
import type { ClusterConnection } from './connection.ts';
import type { EventLog } from './event-log.ts';
import { decode, encode, type AnswerQuestion, type LogAnswer, type LoggedDerivedEvent, type LoggedEvent, type QuestionAnswer } from './log-wire.ts';
import { PartitionReader } from './partition-reader.ts';
import type { LogRecord } from './types.ts';


export interface PartitionOwnerOptions {
  partition: number;
  /** Batches handed to the engine and not yet answered, at most: the reader waits beyond. */
  maxInFlight?: number;
  /** Most entries per batch. */
  maxBatch?: number;
  /** The engine refused a batch (closed, failed): the partition cannot go on here. */
  onFailure?: (error: unknown) => void;
  /** Resolves once this node's state of partition `partition` holds changelog sequence `seq` (read fences). */
  awaitCopy?: (partition: number, seq: number) => Promise<void>;
}

const DEFAULT_MAX_IN_FLIGHT = 8;
/** Answers kept to answer questions with (the latest, by log sequence). */
const ANSWERS_KEPT = 10_000;

interface InFlight {
  last: number;
  done: boolean;
}

export class PartitionOwner {
  readonly partition: number;
  private readonly reader: PartitionReader;
  private readonly questions: Subscription;
  private readonly inFlight: InFlight[] = [];
  /** Every entry up to here is answered: a question about one of them can be answered. */
  private answered: number;
  private readonly waiting: Array<{ seq: number; ask: () => void }> = [];
  /** The answers this owner gave, by log sequence: a question gets the answer given, not a duplicate's. */
  private readonly given = new Map<number, QuestionAnswer>();
  private readonly maxInFlight: number;
  private slot: (() => void) | undefined;
  private failed = false;

  constructor(
    private readonly conn: ClusterConnection,
    log: EventLog,
    private readonly engine: LoggedEngine,
    private readonly opts: PartitionOwnerOptions,
  ) {
    this.partition = opts.partition;
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.answered = engine.logPosition(opts.partition);
    this.questions = conn.nc.subscribe(conn.names.questionSubject(opts.partition), {
      callback: (err, msg) => {
        if (!err) this.question(msg.data, (bytes) => msg.respond(bytes));
      },
    });
    this.reader = new PartitionReader(conn, log, {
      partition: opts.partition,
      after: this.answered,
      maxBatch: opts.maxBatch,
      onBatch: (batch) => this.apply(batch),
    });
  }

  /** Reading has ended: stopped, or the connection closed. */
  get done(): Promise<void> {
    return this.reader.done;
  }

  /** Stops reading and answering; waits for the batches handed to the engine. */
  async stop(): Promise<void> {
    this.questions.unsubscribe();
    await this.reader.stop();
    while (this.inFlight.length > 0 && !this.failed) await new Promise<void>((resolve) => (this.slot = resolve));
  }

  private async apply(batch: LogRecord[]): Promise<void> {
    if (this.failed) throw new Error(`partition ${this.partition} stopped after a failed batch`);
    while (this.inFlight.length >= this.maxInFlight) await new Promise<void>((resolve) => (this.slot = resolve));
    const logged = batch.map((r) => decodeEntry(r));
    await this.readFences(logged);
    const flight: InFlight = { last: batch[batch.length - 1].seq, done: false };
    this.inFlight.push(flight);
    const entries = logged.map((l, i): LogEntry | LoggedDerived =>
      l !== undefined && 'derived' in l ? { seq: batch[i].seq, derived: l.derived, arrival: l.arrival } : { seq: batch[i].seq, event: l?.event ?? null },
    );
    // Not awaited: the next batch goes to the engine while this one commits (the engine keeps the order).
    this.engine.submitLogged(this.partition, entries).then(
      (results) => {
        this.sendAnswers(batch, logged, results);
        flight.done = true;
        this.settle();
      },
      (error: unknown) => {
        this.failed = true;
        this.slot?.();
        this.opts.onFailure?.(error);
      },
    );
  }

  /** Waits until this node holds what the batch's events were logged after (LoggedEvent.after). */
  private async readFences(logged: Array<LoggedEvent | LoggedDerivedEvent | undefined>): Promise<void> {
    if (!this.opts.awaitCopy) return;
    const wanted = new Map<number, number>();
    for (const entry of logged) {
      if (entry === undefined || !('after' in entry) || typeof entry.after !== 'object' || entry.after === null) continue;
      for (const [p, seq] of Object.entries(entry.after)) {
        const partition = Number(p);
        if (partition !== this.partition && Number.isSafeInteger(seq) && seq > (wanted.get(partition) ?? 0)) wanted.set(partition, seq);
      }
    }
    await Promise.all([...wanted].map(([p, seq]) => this.opts.awaitCopy!(p, seq)));
  }

  private sendAnswers(batch: LogRecord[], logged: Array<LoggedEvent | LoggedDerivedEvent | undefined>, results: EventResult[]): void {
    const byNode = new Map<string, LogAnswer[]>();
    const cl = this.engine.changelogPosition(this.partition);
    for (let i = 0; i < batch.length; i++) {
      this.given.set(batch[i].seq, { result: results[i], cl: this.engine.changelogPosition(this.partition) });
      const entry = logged[i];
      const reply = entry !== undefined && 'reply' in entry ? entry.reply : undefined;
      if (reply === undefined) continue;
      let list = byNode.get(reply);
      if (!list) byNode.set(reply, (list = []));
      list.push({ partition: this.partition, seq: batch[i].seq, result: results[i], cl });
    }
    for (const seq of this.given.keys()) {
      if (this.given.size <= ANSWERS_KEPT) break;
      this.given.delete(seq);
    }
    // A lost answer costs its node a question, not the event: no retry here.
    for (const [node, answers] of byNode) this.conn.nc.publish(this.conn.names.answerSubject(node), encode(answers));
  }

  /** Answered batches leave the window in log order, so `answered` never passes one still open. */
  private settle(): void {
    while (this.inFlight.length > 0 && this.inFlight[0].done) this.answered = this.inFlight.shift()!.last;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].seq <= this.answered) this.waiting.splice(i, 1)[0].ask();
    }
    const slot = this.slot;
    this.slot = undefined;
    slot?.();
  }

  private question(data: Uint8Array, respond: (bytes: Uint8Array) => void): void {
    let q: AnswerQuestion;
    try {
      q = decode<AnswerQuestion>(data);
    } catch {
      return;
    }
    if (!Number.isSafeInteger(q?.seq) || q.seq < 1) return;
    // Asked about an entry an earlier owner applied (or one long ago), the engine answers from what
    // it kept (as a duplicate) and applies nothing: the entry is at or below its position.
    const ask = () => {
      const given = this.given.get(q.seq);
      if (given !== undefined) return void respond(encode(given));
      return this.engine.submitLogged(this.partition, [{ seq: q.seq, event: q.event }]).then(
        ([result]) => respond(encode({ result, cl: this.engine.changelogPosition(this.partition) } satisfies QuestionAnswer)),
        () => {},
      );
    };
    if (q.seq <= this.answered) void ask();
    else this.waiting.push({ seq: q.seq, ask });
  }
}

/** An entry the log holds that this version cannot read is still applied: as an invalid event, answered to nobody. */
function decodeEntry(record: LogRecord): LoggedEvent | LoggedDerivedEvent | undefined {
  try {
    const entry = decode<LoggedEvent | LoggedDerivedEvent>(record.data);
    return entry && typeof entry === 'object' ? entry : undefined;
  } catch {
    return undefined;
  }
}
