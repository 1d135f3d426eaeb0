// N WebSocket subscribers in one thread, on the lean wire client (omni-subscriber.ts). Every
// update is counted per client and its push latency (receive time − update.ts, where ts is the
// oldest event folded into the update, i.e. that event's scheduled send time) goes into a
// histogram. Connections are opened a batch at a time — a new one each time one has all its
// snapshots — so ten thousand of them never pile up in the server's accept queue at once.

import { LatencyRecorder } from './latency.ts';
import { openOmniSubscriber, type OmniSubscriber } from './omni-subscriber.ts';
import type { SubscriberTally } from './types.ts';
import type { Format } from './types.ts';
import { openSocketIoSubscriber } from './socketio-subscriber.ts';

/** What the subscribers speak: omnistream's /v1/ws protocol, or Socket.IO (the fan-out bench's peer). */
export type SubscriberProtocol = 'omni' | 'socketio';

export interface GroupOptions {
  url: string;
  token?: string;
  format: Format;
  /** Topics of each client: topics[c] for client c. */
  topics: string[][];
  /** Tokens of each client where it has its own (a kiosk's): tokens[c] for client c, else `token`. */
  tokens?: Array<string | undefined>;
  /** Give up waiting for subscriptions after this long without one completing. */
  readyTimeoutMs?: number;
  /** Connections still waiting for their snapshots at any one time. */
  connectsInFlight?: number;
  /** Default 'omni'. */
  protocol?: SubscriberProtocol;
}

export interface GroupSample {
  clients: number;
  connected: number;
  snapshots: number;
  received: number;
  errors: number;
  // Optional so that other receivers (socketio-subscriber.ts) may leave them out.
  /** Seq jumps on state topics: updates the server conflated for a slow reader. */
  conflated?: number;
  /** Seqs that went backwards, repeated, or skipped on an event topic. */
  seqErrors?: number;
  /** `received` per topic family (`stock`, `kiosk`, `recs`, …). */
  receivedByFamily?: Record<string, number>;
}

export interface GroupFinal extends GroupSample {
  /** Updates received by each client, in the order of `topics`. */
  perClient: number[];
  /** Push latency histogram (compressed base64). */
  push: string;
  /** The first few distinct error messages. */
  errorSamples?: string[];
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_CONNECTS_IN_FLIGHT = 100;
const ERROR_SAMPLES = 5;

export class SubscriberGroup implements SubscriberTally {
  readonly push = new LatencyRecorder();
  readonly interval = new LatencyRecorder();
  private readonly subscribers: OmniSubscriber[] = [];
  private readonly perClient: number[];
  private connected = 0;
  private snapshots = 0;
  private received = 0;
  private errors = 0;
  private conflations = 0;
  private seqErrors = 0;
  private readonly byFamily = new Map<string, number>();
  private readonly errorSamples: string[] = [];
  /** Clients not yet opened, and those opened but not yet subscribed or closed. */
  private nextClient = 0;
  private pending = 0;
  private onProgress: (() => void) | undefined;

  constructor(private readonly o: GroupOptions) {
    this.perClient = o.topics.map(() => 0);
  }

  /** Opens every client, paced; resolves once each is subscribed or gone (or progress stalls). */
  async start(): Promise<void> {
    const timeoutMs = this.o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    await new Promise<void>((resolve) => {
      let stall: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(stall);
        this.onProgress = undefined;
        resolve();
      };
      this.onProgress = () => {
        this.openMore();
        if (this.pending === 0 && this.nextClient === this.o.topics.length) return done();
        clearTimeout(stall);
        stall = setTimeout(done, timeoutMs);
        stall.unref();
      };
      this.onProgress();
    });
  }

  private openMore(): void {
    const limit = this.o.connectsInFlight ?? DEFAULT_CONNECTS_IN_FLIGHT;
    while (this.pending < limit && this.nextClient < this.o.topics.length) {
      const client = this.nextClient++;
      this.pending++;
      this.subscribers.push((this.o.protocol === 'socketio' ? openSocketIoSubscriber : openOmniSubscriber)({ url: this.o.url, token: this.o.tokens?.[client] ?? this.o.token, format: this.o.format, topics: this.o.topics[client], client }, this));
    }
  }

  opened(): void {
    this.connected++;
  }

  closed(subscribed: boolean): void {
    this.connected--;
    if (!subscribed) this.settleOne();
  }

  subscribed(): void {
    this.settleOne();
  }

  private settleOne(): void {
    this.pending--;
    this.onProgress?.();
  }

  snapshot(): void {
    this.snapshots++;
  }

  update(client: number, tsMs: number, nowMs: number, family: string): void {
    this.perClient[client]++;
    this.received++;
    this.byFamily.set(family, (this.byFamily.get(family) ?? 0) + 1);
    this.push.recordSince(tsMs, nowMs);
    this.interval.recordSince(tsMs, nowMs);
  }

  conflated(): void {
    this.conflations++;
  }

  seqError(): void {
    this.seqErrors++;
  }

  error(detail: string): void {
    this.errors++;
    if (this.errorSamples.length < ERROR_SAMPLES && !this.errorSamples.includes(detail)) this.errorSamples.push(detail);
  }

  sample(): GroupSample {
    return {
      clients: this.o.topics.length,
      connected: this.connected,
      snapshots: this.snapshots,
      received: this.received,
      errors: this.errors,
      conflated: this.conflations,
      seqErrors: this.seqErrors,
      receivedByFamily: Object.fromEntries(this.byFamily),
    };
  }

  /** Closes every client and returns the totals. */
  stop(): GroupFinal {
    const final: GroupFinal = { ...this.sample(), perClient: [...this.perClient], push: this.push.encode(), errorSamples: [...this.errorSamples] };
    for (const subscriber of this.subscribers) subscriber.close();
    return final;
  }
}
