// What one subscriber connection checks of the snapshots and updates it receives, whatever the
// wire (omnistream's /v1/ws, or Socket.IO for the fan-out bench's peer): every topic's seq, from
// its first snapshot on, reported to the thread's tally. State topics may be conflated (seq
// jumps); event topics never skip a seq (protocol §5).

import type { SubscriberTally } from './omni-subscriber.ts';

const STATE_TOPIC = /^(stock|queue|recs)\//;
const NOT_SUBSCRIBED = -1;

export class SeqCheck {
  /** The last seq seen per topic; NOT_SUBSCRIBED until its snapshot. */
  private readonly lastSeq: Map<string, number>;
  private waitingSnapshots: number;

  constructor(
    topics: readonly string[],
    private readonly tally: SubscriberTally,
    private readonly client: number,
  ) {
    this.lastSeq = new Map(topics.map((t) => [t, NOT_SUBSCRIBED]));
    this.waitingSnapshots = this.lastSeq.size;
  }

  /** Every topic has had its first snapshot. */
  get subscribed(): boolean {
    return this.waitingSnapshots === 0;
  }

  snapshot(topic: unknown, seq: unknown): void {
    const last = typeof topic === 'string' ? this.lastSeq.get(topic) : undefined;
    if (last === undefined || !Number.isSafeInteger(seq)) return this.tally.error('snapshot for a topic never asked for, or without an integer seq');
    this.lastSeq.set(topic as string, seq as number);
    this.tally.snapshot(last === NOT_SUBSCRIBED);
    if (last === NOT_SUBSCRIBED && --this.waitingSnapshots === 0) this.tally.subscribed();
  }

  /** A fully decoded update (whatever the wire), its fields checked before `update`. */
  decodedUpdate(msg: { topic?: unknown; seq?: unknown; ts?: unknown } | undefined, now: number): void {
    const { topic, seq, ts } = msg ?? {};
    if (typeof topic !== 'string' || !Number.isSafeInteger(seq) || !Number.isFinite(ts)) return this.tally.error('update without topic, integer seq or finite ts');
    this.update(topic, seq as number, ts as number, now);
  }

  /** An update received at `now` (epoch ms) whose oldest event was scheduled at `ts`. */
  update(topic: string, seq: number, ts: number, now: number): void {
    const last = this.lastSeq.get(topic);
    if (last === undefined) return this.tally.error(`update for ${topic}, never asked for`);
    // A repeat, a step back or an update before the snapshot is an error, not a delivery.
    if (last === NOT_SUBSCRIBED || seq <= last) return this.tally.seqError();
    this.tally.update(this.client, ts, now);
    if (seq !== last + 1) {
      if (STATE_TOPIC.test(topic)) this.tally.conflated();
      else this.tally.seqError();
    }
    this.lastSeq.set(topic, seq);
  }
}

/**
 * How a subscriber connection ends, whatever the wire: the tally hears of every close, and a close
 * we did not ask for (or a failure) is one error, however many callbacks report it.
 */
export class SubscriberEnd {
  #closing = false;
  #failed = false;

  constructor(
    private readonly tally: SubscriberTally,
    private readonly seqs: SeqCheck,
  ) {}

  /** We are closing it: the close that follows is no error. */
  closing(): void {
    this.#closing = true;
  }

  closed(code: number): void {
    this.tally.closed(this.seqs.subscribed);
    if (!this.#closing && !this.#failed) this.tally.error(`connection closed by the server (${code})`);
  }

  failed(error: Error): void {
    this.#failed = true;
    this.tally.error(error.message);
  }
}
