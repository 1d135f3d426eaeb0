// One WebSocket client: its identity, format, subscriptions and outbound queue. uWS's own
// buffer is kept small (limits.sendBufferBytes); beyond it messages wait here, where we can
// decide per topic kind: a state topic keeps only its latest pending update (conflation, the
// client sees seq jump), an event-topic message is never dropped and a client that lets them
// pile up past the bound is closed with 4008 so it resumes with `since`. Either way the memory
// held for a slow client is bounded. A replay from history (sub with `since`) is queued whole
// and neither conflated nor counted: its messages are the topic's history, already bounded and
// counted there, and counting them would close a resuming client again for what it came to get.

import type { WebSocket } from 'uWebSockets.js';
import type { Principal } from '../auth/principal.ts';
import { readerView, type ReaderView } from './agent-view.ts';
import { CLOSE, type WsLimits } from './limits.ts';
import type { OutMessage, WsFormat } from './out-message.ts';
import { TokenBucket } from './rate-limit.ts';
import type { Expiring } from './token-expiry.ts';
import type { Subscriber } from './topic-hub.ts';

export type SentKind = 'state' | 'event' | 'control';

export interface ConnectionCounters {
  sent(kind: SentKind): void;
  conflated(): void;
  slowClose(): void;
}

/** What we keep on the uWS socket (its user data): filled in at upgrade, bound to us at open. */
export interface SocketData {
  principal: Principal;
  /** From `?format=`; otherwise the format of the last frame the client sent. */
  format: WsFormat | undefined;
  /** The token's `exp` in epoch ms: the connection is closed with 4001 then. */
  expiresAtMs: number | undefined;
  connection?: WsConnection;
}

interface Slot {
  message: OutMessage;
  /** Set for a conflatable update: the state topic it belongs to. */
  stateTopic: string | undefined;
  /** Counted against the 4008 bound (not for conflatable updates and replays). */
  counted: boolean;
  /** Part of a replay: counted against the connection's replay budget instead. */
  replay: boolean;
  bytes: number;
}

export class WsConnection implements Subscriber, Expiring {
  readonly topics = new Set<string>();
  readonly bucket: TokenBucket;
  format: WsFormat;
  readonly fixedFormat: boolean;
  badFrames = 0;
  closed = false;
  /** No token: counted against the anonymous budgets (connections, subscriptions). */
  readonly anonymous: boolean;

  #queue: Array<Slot | undefined> = [];
  #head = 0;
  /**
   * The pending (unsent) update slot of each state topic, replaced in place when conflated.
   * Made on the first queued state update: most connections of a quiet server never need one.
   */
  #pendingState: Map<string, Slot> | undefined;
  #queuedMessages = 0;
  #queuedBytes = 0;
  #replayQueued = 0;
  /** How this reader is shown updates (an agent: customers' contact ids masked). */
  readonly #view: ReaderView | undefined;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    readonly principal: Principal,
    format: WsFormat | undefined,
    private readonly limits: WsLimits,
    private readonly counters: ConnectionCounters,
  ) {
    this.format = format ?? 'json';
    this.fixedFormat = format !== undefined;
    this.anonymous = principal.role === 'anonymous';
    this.bucket = new TokenBucket(limits.opsPerSecond, limits.opsBurst);
    this.#view = readerView(principal);
  }

  /** Queues a message (never sends: callers may be iterating shared state). */
  push(shared: OutMessage): void {
    if (this.closed) return;
    const message = this.#view?.(shared) ?? shared;
    const stateTopic = message.stateUpdate ? message.topic : undefined;
    if (stateTopic !== undefined) {
      const pending = this.#pendingState?.get(stateTopic);
      if (pending !== undefined) {
        // Still unsent: the newer state replaces it where it stood.
        pending.message = message;
        this.counters.conflated();
        return;
      }
    }
    const slot: Slot = { message, stateTopic, counted: stateTopic === undefined, replay: false, bytes: 0 };
    if (stateTopic !== undefined) {
      (this.#pendingState ??= new Map()).set(stateTopic, slot);
    } else {
      slot.bytes = message.size(this.format);
      this.#queuedMessages++;
      this.#queuedBytes += slot.bytes;
    }
    this.#queue.push(slot);
  }

  /** Queues and sends at once, corked (for answers produced outside uWS callbacks). */
  deliver(message: OutMessage): void {
    this.push(message);
    this.flush();
  }

  /** Queues the updates of a replay in order, each sent as is, and sends what fits. */
  deliverReplay(messages: readonly OutMessage[]): void {
    if (this.closed) return;
    for (const shared of messages) this.#queue.push({ message: this.#view?.(shared) ?? shared, stateTopic: undefined, counted: false, replay: true, bytes: 0 });
    this.#replayQueued += messages.length;
    this.flush();
  }

  /** How many more replayed updates may be queued for this connection (see WsLimits.maxReplayMessages). */
  get replayBudget(): number {
    return this.limits.maxReplayMessages - this.#replayQueued;
  }

  /** Sends queued messages while uWS's buffer has room; closes with 4008 past the bound. */
  flush(): void {
    if (this.closed) return;
    this.ws.cork(() => this.#flushCorked());
  }

  /** Drops queued updates of a topic the client left. */
  forget(topic: string): void {
    // A topic's queued updates (event messages, a replay, a state topic's pending update) may
    // sit anywhere in the queue.
    for (let i = this.#head; i < this.#queue.length; i++) {
      const slot = this.#queue[i];
      if (slot !== undefined && slot.message.topic === topic && slot.message.seq !== undefined) this.#take(i);
    }
  }

  /** Closes the socket because the token that opened it expired (token-expiry.ts). */
  expire(): void {
    this.end(CLOSE.tokenExpired, 'token expired');
  }

  /** Closes the socket (uWS calls the close handler synchronously). */
  end(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.end(code, reason);
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes uWS holds for this client, not yet written to the socket. */
  get buffered(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  #flushCorked(): void {
    const { ws } = this;
    while (this.#head < this.#queue.length && !this.closed) {
      if (ws.getBufferedAmount() >= this.limits.sendBufferBytes) break;
      const slot = this.#take(this.#head);
      if (slot === undefined) continue;
      const status = ws.send(slot.message.encode(this.format), this.format === 'msgpack');
      this.counters.sent(slot.message.seq === undefined ? 'control' : slot.message.stateUpdate ? 'state' : 'event');
      // 2 = dropped by uWS's maxBackpressure: we stay far below it, so this means the bound
      // was misconfigured; a lost event must not go unnoticed, so the client resumes instead.
      if (status === 2) return this.#slowClose();
    }
    this.#compact();
    if (this.#queuedMessages > this.limits.maxQueuedMessages || this.#queuedBytes > this.limits.maxQueuedBytes) this.#slowClose();
  }

  #take(index: number): Slot | undefined {
    const slot = this.#queue[index];
    if (slot === undefined) {
      if (index === this.#head) this.#head++;
      return undefined;
    }
    this.#queue[index] = undefined;
    if (index === this.#head) this.#head++;
    if (slot.stateTopic !== undefined) {
      this.#pendingState!.delete(slot.stateTopic);
    } else if (slot.counted) {
      this.#queuedMessages--;
      this.#queuedBytes -= slot.bytes;
    } else if (slot.replay) {
      this.#replayQueued--;
    }
    return slot;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #slowClose(): void {
    if (this.closed) return;
    this.counters.slowClose();
    this.ws.end(CLOSE.slowConsumer, 'slow consumer: resume with since');
  }

  /** Called from the close handler: the socket must not be touched again. */
  markClosed(): void {
    this.closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#pendingState = undefined;
    this.#queuedMessages = 0;
    this.#queuedBytes = 0;
    this.#replayQueued = 0;
  }
}
