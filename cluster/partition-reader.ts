// Reads one partition's subject of the event log in order, from the sequence after the one the
// partition committed. The server-side position lives in a durable pull consumer, but the reader
// never trusts it: it knows the last sequence it delivered, and whenever the consumer's position
// may differ (start, a restarted server's stale state, messages lost on a dead connection, a
// stall) it deletes the consumer and adds it again starting right after that sequence. Its
// start sequence cannot be changed in place (the server answers "start sequence can not be
// updated"), and re-adding takes a few milliseconds.
//
// Acknowledgements are off (`ack_policy: none`): the partition's commit is the acknowledgement.
// What guards against loss instead is the consumer's delivery sequence, which counts up by one
// per message it sends: a jump means messages went to a connection that is gone, and the reader
// starts over after its last sequence.

import { AckPolicy, DeliverPolicy, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import type { ClusterConnection } from './connection.ts';
import { ClusterError, describeError, isNotFound } from './errors.ts';
import type { EventLog } from './event-log.ts';
import type { LogRecord, ReaderOptions } from './types.ts';

const DEFAULT_MAX_BATCH = 256;
/** Short pulls: nats.js' 30 s default left consumers stalled for 30–45 s after a server restart. */
const DEFAULT_EXPIRES_MS = 2_000;
const DEFAULT_STALL_MS = 5_000;
const ERROR_PAUSE_MS = 250;



/** A failure of the caller's onBatch: it ends the reader rather than being retried. */
class BatchHandlerError extends Error {}

/** The durable consumer a partition's owner reads its event log through (shared by every owner in turn). */
export const ownerConsumerName = (partition: number) => `omni-p${partition}`;

export class PartitionReader {
  /** Resolves once stopped; rejects if the connection closed or onBatch threw (reading has ended). */
  readonly done: Promise<void>;
  private last: number;
  private stopped = false;
  private fetching: ConsumerMessages | undefined;
  private consumer: Consumer | undefined;
  private recreateReason: string | undefined = 'start';
  private expectedDelivery = 1;
  private lastProgress = Date.now();
  private wake: (() => void) | undefined;
  private readonly subject: string;
  private readonly stream: string;
  private readonly name: string;
  private readonly maxBatch: number;
  private readonly expiresMs: number;
  private readonly stallMs: number;

  constructor(
    private readonly conn: ClusterConnection,
    log: EventLog,
    private readonly opts: ReaderOptions,
  ) {
    if (!Number.isInteger(opts.partition) || opts.partition < 0 || opts.partition >= log.partitions) {
      throw new ClusterError('invalid', `partition must be an integer from 0 to ${log.partitions - 1}, got ${opts.partition}`);
    }
    if (!Number.isInteger(opts.after) || opts.after < 0) throw new ClusterError('invalid', `after must be a sequence ≥ 0, got ${opts.after}`);
    this.last = opts.after;
    this.subject = log.subject(opts.partition);
    this.stream = log.stream;
    this.name = opts.consumerName ?? ownerConsumerName(opts.partition);
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.expiresMs = Math.max(1_000, opts.expiresMs ?? DEFAULT_EXPIRES_MS);
    this.stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
    this.done = this.run();
    // A caller that never looks at `done` must not have the process die of an unhandled rejection.
    this.done.catch(() => {});
  }

  /** The last stream sequence handed to onBatch (or `after` before any). */
  get lastSeq(): number {
    return this.last;
  }

  /** Ends the pull under way and waits for the reader to finish its current batch. Leaves the consumer on the server. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.fetching?.stop();
    this.wake?.();
    await this.done.catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.conn.nc.isClosed()) throw new ClusterError('closed', `reader of ${this.subject}: the connection is closed`);
      try {
        await this.pullOnce();
      } catch (e) {
        if (e instanceof BatchHandlerError) throw e.cause;
        if (this.stopped) break;
        // A consumer gone from the server (deleted, lost with an R1 server's store) is added again;
        // anything else (timeouts, heartbeats missed, no responders) is retried as it is.
        if (isNotFound(e)) this.recreateReason ??= `consumer missing: ${describeError(e)}`;
        await this.pause(ERROR_PAUSE_MS);
      }
      if (!this.stopped && this.recreateReason === undefined) await this.checkStall().catch(() => {});
    }
  }

  /** One pull request: sets the consumer up if needed, delivers what arrives, in batches. */
  private async pullOnce(): Promise<void> {
    if (this.recreateReason !== undefined) await this.recreate(this.recreateReason);
    this.consumer ??= await this.conn.js.consumers.get(this.stream, this.name);
    const it = await this.consumer.fetch({ max_messages: this.maxBatch, expires: this.expiresMs });
    this.fetching = it;
    // The library ends a pull after `expires` or missed heartbeats; this only guards against one
    // that never ends. Stopping it can drop messages the server sent, which the delivery sequence
    // check below then notices.
    const guard = setTimeout(() => it.stop(), this.expiresMs + this.stallMs);
    let batch: LogRecord[] = [];
    try {
      for await (const m of it) {
        if (this.stopped) break;
        if (m.info.deliverySequence !== this.expectedDelivery) {
          this.recreateReason = `delivery sequence ${m.info.deliverySequence}, expected ${this.expectedDelivery}`;
          break;
        }
        this.expectedDelivery++;
        if (m.seq <= this.last) continue;
        batch.push({ seq: m.seq, data: m.data });
        // Hand over what has arrived rather than wait for a full batch (latency), but all of it at once.
        if (batch.length >= this.maxBatch || it.getPending() <= 0) {
          await this.deliver(batch);
          batch = [];
        }
      }
    } finally {
      clearTimeout(guard);
      this.fetching = undefined;
      it.stop();
    }
    // Records taken from the pull before a break are in order and after `last`: deliver them
    // (unless stopped: the next reader starts after `lastSeq`, which does not count them).
    if (batch.length > 0 && !this.stopped) await this.deliver(batch);
  }

  private async deliver(batch: LogRecord[]): Promise<void> {
    try {
      await this.opts.onBatch(batch);
    } catch (e) {
      throw new BatchHandlerError('onBatch failed', { cause: e });
    }
    this.last = batch[batch.length - 1].seq;
    this.lastProgress = Date.now();
  }

  /** Deletes the durable consumer and adds it again, starting right after the last delivered sequence. */
  private async recreate(reason: string): Promise<void> {
    this.consumer = undefined;
    await this.conn.jsm.consumers.delete(this.stream, this.name).catch((e: unknown) => {
      if (!(isNotFound(e))) throw e;
    });
    await this.conn.jsm.consumers.add(this.stream, {
      durable_name: this.name,
      filter_subject: this.subject,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.last + 1,
    });
    this.expectedDelivery = 1;
    this.recreateReason = undefined;
    this.lastProgress = Date.now();
    this.opts.onRecreate?.(reason);
  }

  /**
   * Nothing delivered for stallMs: if the stream holds a later message of this partition, the
   * consumer is stuck (a lost consumer leader can leave pulls unanswered for tens of seconds) and
   * is added again. Asked of the stream, not the consumer, whose own state is what is in doubt.
   */
  private async checkStall(): Promise<void> {
    if (Date.now() - this.lastProgress < this.stallMs) return;
    const lastInStream = await this.conn.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject }).then(
      (m) => m?.seq ?? 0,
      (e: unknown) => {
        if (isNotFound(e)) return 0;
        throw e;
      },
    );
    if (lastInStream > this.last) this.recreateReason = `stalled: nothing for ${Date.now() - this.lastProgress} ms, stream has ${lastInStream} > ${this.last}`;
    else this.lastProgress = Date.now();
  }

  /** A pause that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => (this.wake = undefined));
  }
}
