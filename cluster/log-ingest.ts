// A node taking events for the cluster: each event checked as the engine checks it (an invalid
// one is answered here and never logged), appended to its partition's log, and answered with
// what the partition's owner answers once it has applied it. The owner sends the answer to this
// node's answer subject; when none comes (the owner died between its commit and the answer, or
// the append was a retry the log had stored before, whose answer went to the node that logged it
// first), this node asks the owner, which answers once the entry is applied.

import type { Subscription } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventResult, EventRouter, InputEvent, RoutedEvent } from '../engine/mod.ts';
import type { ClusterConnection } from './connection.ts';
import { AppendError, ClusterError } from './errors.ts';
import type { EventLog } from './event-log.ts';
import type { LogEntry } from './types.ts';
import { decode, encode, logMsgID, type LogAnswer, type LoggedEvent, type QuestionAnswer } from './log-wire.ts';

export interface LogIngestOptions {
  /** This node's id: the owners answer on its answer subject. */
  nodeId: string;
  /** How long an answer may take before this node asks for it (ms). */
  answerWaitMs?: number;
  /** How long this node keeps asking before it answers `unavailable` (ms). */
  answerTimeoutMs?: number;
}

const DEFAULT_ANSWER_WAIT_MS = 2_000;
const DEFAULT_ANSWER_TIMEOUT_MS = 30_000;
const ASK_TIMEOUT_MS = 2_000;

type Waiter = (answer: QuestionAnswer) => void;

export class LogIngest {
  private readonly waiters = new Map<string, Waiter>();
  /** Answers that came before their append's acknowledgement, or after their waiter gave up. */
  private readonly early = new Map<string, { answer: QuestionAnswer; at: number }>();
  /**
   * Per partition, the changelog sequence of the latest answered event other partitions read (a
   * location, a link, a profile): events logged from then on carry it (LoggedEvent.after), so
   * their owners apply them only once they hold it, wherever it was applied.
   */
  private readonly fences = new Map<number, number>();
  /** Per partition, the entries of an append that failed `unavailable`, from its first unstored one. */
  private readonly unsettled = new Map<number, LogEntry[]>();
  private readonly answers: Subscription;
  private readonly ordered: { submit(events: readonly unknown[]): Promise<EventResult[]>; settled(): Promise<void> };
  private readonly answerWaitMs: number;
  private readonly answerTimeoutMs: number;
  private closed = false;

  constructor(
    private readonly conn: ClusterConnection,
    private readonly log: EventLog,
    private readonly router: EventRouter,
    private readonly opts: LogIngestOptions,
  ) {
    this.answerWaitMs = opts.answerWaitMs ?? DEFAULT_ANSWER_WAIT_MS;
    this.answerTimeoutMs = opts.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    this.answers = conn.nc.subscribe(conn.names.answerSubject(opts.nodeId), {
      callback: (err, msg) => {
        if (!err) this.take(msg.data);
      },
    });
    this.ordered = router.inOrder((events) => this.append(events));
  }

  /**
   * Resolves with one answer per event once each is applied and durable on its partition's owner.
   * Rejects with a ClusterError `unavailable` when the log could not take the events (NATS away):
   * some may be logged all the same, and a retry with the same ids is answered as the engine
   * answers retries.
   */
  submit(events: readonly unknown[]): Promise<EventResult[]> {
    return this.ordered.submit(events);
  }

  /** Stops taking answers; requests still waiting get theirs by asking, until their bound. */
  async close(): Promise<void> {
    this.closed = true;
    await this.ordered.settled();
    this.answers.unsubscribe();
  }

  private async append(events: readonly unknown[]): Promise<EventResult[]> {
    const results: EventResult[] = new Array(events.length);
    const byPartition = new Map<number, Array<{ index: number; routed: RoutedEvent }>>();
    events.forEach((raw, index) => {
      const routed = this.router.route(raw);
      if ('refused' in routed) {
        results[index] = routed.refused;
        return;
      }
      let list = byPartition.get(routed.partition);
      if (!list) byPartition.set(routed.partition, (list = []));
      list.push({ index, routed });
    });
    await Promise.all(
      [...byPartition].map(async ([partition, list]) => {
        const after = this.fencesFor(partition);
        const entries = list.map(({ routed }) => ({
          msgID: logMsgID(routed.event.id, routed.digest),
          data: encode({ event: routed.event, reply: this.opts.nodeId, ...(after ? { after } : {}) } satisfies LoggedEvent),
        }));
        // Entries of an append that failed `unavailable` go first: the log takes nothing new on
        // that partition before them (and drops the copies it stored already).
        const unsettled = this.unsettled.get(partition) ?? [];
        const retried = new Set<number>();
        let seqs: number[];
        try {
          seqs = (await this.log.append(partition, [...unsettled, ...entries], { onDuplicate: (k) => retried.add(k - unsettled.length) })).slice(unsettled.length);
        } catch (error) {
          if (error instanceof AppendError && error.code === 'unavailable') this.unsettled.set(partition, [...unsettled, ...entries].slice(error.stored.length));
          // Another writer's append on this node (a derived event) has to settle first: passing.
          if (error instanceof AppendError && error.code === 'unsettled') throw new ClusterError('unavailable', `partition ${partition}: ${error.message}; retry shortly`, { cause: error });
          throw error;
        }
        if (this.unsettled.get(partition) === unsettled) this.unsettled.delete(partition);
        const answers = await Promise.all(seqs.map((seq, k) => this.answerOf(partition, seq, list[k].routed.event)));
        answers.forEach(({ result, cl }, k) => {
          if (result.ok && this.router.readByOthers(list[k].routed.event.type) && cl > (this.fences.get(partition) ?? 0)) this.fences.set(partition, cl);
          // A retry of an event the log held already is answered as the engine answers retries.
          results[list[k].index] = retried.has(k) ? { ...result, duplicate: true } : result;
        });
      }),
    );
    return results;
  }

  private fencesFor(partition: number): Record<string, number> | undefined {
    let after: Record<string, number> | undefined;
    for (const [p, seq] of this.fences) if (p !== partition) (after ??= {})[p] = seq;
    return after;
  }

  private take(data: Uint8Array): void {
    let answers: LogAnswer[];
    try {
      answers = decode<LogAnswer[]>(data);
    } catch {
      return;
    }
    if (!Array.isArray(answers)) return;
    const now = Date.now();
    for (const a of answers) {
      const key = `${a?.partition}/${a?.seq}`;
      const waiter = this.waiters.get(key);
      if (waiter) {
        this.waiters.delete(key);
        waiter({ result: a.result, cl: a.cl ?? 0 });
      } else {
        this.early.set(key, { answer: { result: a.result, cl: a.cl ?? 0 }, at: now });
      }
    }
    // Unclaimed answers (a waiter that asked and went) are kept no longer than a waiter waits.
    for (const [key, { at }] of this.early) {
      if (now - at <= this.answerTimeoutMs) break;
      this.early.delete(key);
    }
  }

  private async answerOf(partition: number, seq: number, event: InputEvent): Promise<QuestionAnswer> {
    const key = `${partition}/${seq}`;
    const early = this.early.get(key);
    if (early) {
      this.early.delete(key);
      return early.answer;
    }
    // The answer sent keeps counting while this node asks: the owner sends it before it answers
    // a question about the same entry, and it is the first answer, where a question's may say
    // duplicate (an owner that took over answers from what its engine kept).
    return new Promise<QuestionAnswer>((resolve) => {
      let settled = false;
      const settle = (answer: QuestionAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.waiters.delete(key);
        resolve(answer);
      };
      this.waiters.set(key, settle);
      const timer = setTimeout(() => void this.ask(partition, seq, event, () => settled).then(settle), this.answerWaitMs);
    });
  }

  /** Asks the partition's owner until it answers, the answer came otherwise (`answered`), or the bound passes. */
  private async ask(partition: number, seq: number, event: InputEvent, answered: () => boolean): Promise<QuestionAnswer> {
    const deadline = Date.now() + this.answerTimeoutMs;
    let pause = 50;
    while (Date.now() < deadline && !this.closed && !answered()) {
      try {
        const reply = await this.conn.nc.request(this.conn.names.questionSubject(partition), encode({ seq, event }), { timeout: ASK_TIMEOUT_MS });
        return decode<QuestionAnswer>(reply.data);
      } catch {
        // No owner yet (a takeover under way), or it is busy: ask again.
        await sleep(pause);
        pause = Math.min(pause * 2, 1_000);
      }
    }
    return {
      cl: 0,
      result: {
        id: event.id,
        ok: false,
        error: { code: 'unavailable', message: `logged, but its partition's owner did not answer within ${this.answerTimeoutMs} ms; send it again with the same id to learn its answer` },
      },
    };
  }
}
