// What one subscriber connection checks of the snapshots and updates it receives, whatever the
// wire (omnistream's /v1/ws, or Socket.IO for the fan-out bench's peer): every topic's seq, from
// its first snapshot on, reported to the thread's tally. State topics may be conflated (seq
// jumps); event topics never skip a seq (docs/protocol.md, section 5).

import { topicKind } from '../client/mod.ts';
import type { SubscriberTally } from './types.ts';

const NOT_SUBSCRIBED = -1;

interface TopicSeq {
  /** The last seq seen; NOT_SUBSCRIBED until the snapshot. */
  last: number;
  /** `stock`, `kiosk`, `recs`, …: the report counts updates per family. Cut once here, not per update. */
  family: string;
  state: boolean;
}

export function topicFamily(topic: string): string {
  const slash = topic.indexOf('/');
  return slash < 0 ? topic : topic.slice(0, slash);
}

export class SeqCheck {
  private readonly topics: Map<string, TopicSeq>;
  private waitingSnapshots: number;

  constructor(
    topics: readonly string[],
    private readonly tally: SubscriberTally,
    private readonly client: number,
  ) {
    this.topics = new Map(topics.map((t) => [t, { last: NOT_SUBSCRIBED, family: topicFamily(t), state: topicKind(t) === 'state' }]));
    this.waitingSnapshots = this.topics.size;
  }

  /** Every topic has had its first snapshot. */
  get subscribed(): boolean {
    return this.waitingSnapshots === 0;
  }

  snapshot(topic: unknown, seq: unknown): void {
    const t = typeof topic === 'string' ? this.topics.get(topic) : undefined;
    if (t === undefined || !Number.isSafeInteger(seq)) return this.tally.error('snapshot for a topic never asked for, or without an integer seq');
    const last = t.last;
    t.last = seq as number;
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
    const t = this.topics.get(topic);
    if (t === undefined) return this.tally.error(`update for ${topic}, never asked for`);
    const last = t.last;
    // A repeat, a step back or an update before the snapshot is an error, not a delivery.
    if (last === NOT_SUBSCRIBED || seq <= last) return this.tally.seqError();
    this.tally.update(this.client, ts, now, t.family);
    if (seq !== last + 1) {
      if (t.state) this.tally.conflated();
      else this.tally.seqError();
    }
    t.last = seq;
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
