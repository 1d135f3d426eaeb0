// The client an application holds: subscriptions that survive reconnects, calls answered by
// result/pong frames, and open/close/reconnecting/error events. It wires Connection (sockets),
// Subscriptions (seq/epoch bookkeeping) and PendingCalls (answers and timeouts) together.

import { Connection } from './connection.ts';
import { Emitter } from './emitter.ts';
import { ClientClosedError, OmniError, ServerError, TimeoutError } from './errors.ts';
import { PendingCalls, type CallKind } from './pending.ts';
import { Subscriptions } from './subscriptions.ts';
import type {
  ActionOp,
  ClientEvents,
  ClientFrame,
  ConnectOptions,
  ErrorFrame,
  HeartbeatOptions,
  OmniEvent,
  ResultFrame,
  ServerFrame,
  SubscriptionHandlers,
  WebSocketConstructor,
  WebSocketLike,
} from './types.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;
/** The server closes the connection (1009) on an inbound frame over 64 KiB (docs/protocol.md, section 5). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 30_000, timeoutMs: 10_000 };

const ACTION_OPS = new Set(['status', 'accept', 'decline', 'complete', 'message']);

export class OmniClient {
  readonly #emitter = new Emitter<ClientEvents>((error) => this.#reportError(error));
  readonly #connection: Connection;
  readonly #subscriptions: Subscriptions;
  readonly #pending: PendingCalls;
  readonly #heartbeat: HeartbeatOptions | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #emittingError = false;
  /**
   * Op and ping ids. The server uses an op's id as the id of the event it stands for, and event ids
   * are deduplicated for 24 hours across all clients: so ids must be globally unique, hence a
   * random per-client prefix (a UUID where the platform has one) plus a counter.
   */
  readonly #idPrefix = `${randomPrefix()}-`;
  #nextId = 0;

  constructor(options: ConnectOptions) {
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocket) {
      throw new TypeError("no WebSocket implementation: pass one as options.WebSocket (in Node: import { WebSocket } from 'ws')");
    }
    this.#pending = new PendingCalls(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.#heartbeat = options.heartbeat === false ? undefined : { ...DEFAULT_HEARTBEAT, ...options.heartbeat };
    this.#subscriptions = new Subscriptions(
      (frame) => this.#connection.send(frame),
      (error) => this.#reportError(error),
    );
    this.#connection = new Connection(
      {
        url: options.url,
        token: options.token,
        format: options.format ?? 'json',
        WebSocket,
        backoff: options.backoff,
        maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        random: options.random,
      },
      {
        open: () => this.#onOpen(),
        frame: (frame) => this.#onFrame(frame),
        close: (code, reason, willReconnect) => {
          this.#stopHeartbeat();
          // A call on the wire has an unknown outcome now; unsent calls wait for the next socket.
          if (willReconnect) this.#pending.rejectSent(code, reason);
          // The connection gave up by itself (an expired fixed token): the client is closed too.
          else if (!this.#closed) {
            this.#closed = true;
            this.#pending.rejectAll(new ClientClosedError());
          }
          this.#emitter.emit('close', { code, reason, willReconnect });
        },
        reconnecting: (info) => this.#emitter.emit('reconnecting', info),
        error: (error) => this.#reportError(error),
      },
    );
  }

  /** Opens the first socket; connect() calls it. */
  start(): this {
    this.#connection.start();
    return this;
  }

  get connected(): boolean {
    return this.#connection.isOpen;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The socket in use, if any: for diagnostics and tests (closing it makes the client resume). */
  get socket(): WebSocketLike | undefined {
    return this.#connection.socket;
  }

  on<K extends keyof ClientEvents>(name: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#emitter.on(name, listener);
  }

  /**
   * Follows a topic: onSnapshot first, then every update exactly once and in order, across
   * reconnects. Several subscriptions to one topic share one server subscription; on a state topic
   * already followed, onSnapshot runs at once (before subscribe returns) with the cached latest
   * state. Returns the function that ends this subscription (the server one ends with the last).
   */
  subscribe<T = unknown>(topic: string, handlers: SubscriptionHandlers<T>): () => void {
    if (this.#closed) throw new ClientClosedError();
    if (typeof topic !== 'string' || topic === '') throw new TypeError('topic must be a non-empty string');
    return this.#subscriptions.add(topic, handlers);
  }

  /** Where a topic stands: the last seq and epoch delivered to the application. */
  position(topic: string): { seq?: number; epoch?: string } | undefined {
    return this.#subscriptions.position(topic);
  }

  /**
   * Sends an event; resolves with its result when ok, rejects with ServerError (code as in the
   * contract, e.g. insufficient_stock, forbidden) when not, DisconnectedError or TimeoutError when
   * the outcome is unknown. Resending the same event then is safe: its id makes it idempotent.
   */
  send(event: OmniEvent): Promise<ResultFrame> {
    if (typeof event?.id !== 'string' || event.id === '') {
      return Promise.reject(new OmniError('invalid_event', 'an event needs a non-empty string id'));
    }
    return this.#call('result', event.id, { op: 'event', event }, `event ${event.id}`) as Promise<ResultFrame>;
  }

  /**
   * An agent or customer op (status, accept, decline, complete, message). The server turns it into
   * an event whose id is the op's `id`: pass your own id to make a resend after a disconnect
   * idempotent; without one a fresh id is generated (and a resend is a new op).
   */
  op(op: ActionOp): Promise<ResultFrame> {
    if (!ACTION_OPS.has(op?.op)) return Promise.reject(new TypeError(`not an op answered by a result: ${String(op?.op)}`));
    const id = op.id ?? this.#newId();
    return this.#call('result', id, { ...op, id }, `${op.op} ${id}`) as Promise<ResultFrame>;
  }

  /** Round trip in milliseconds. */
  ping(): Promise<number> {
    const id = this.#newId();
    return this.#call('pong', id, { op: 'ping', id }, `ping ${id}`) as Promise<number>;
  }

  /**
   * Drops the current socket and connects again at once (skipping any backoff wait), resuming
   * every topic. For when the application knows the link changed, e.g. a browser 'online' event.
   */
  reconnect(): void {
    if (!this.#closed) this.#connection.reconnect();
  }

  /** Closes for good: no reconnect; waiting calls reject with ClientClosedError. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopHeartbeat();
    this.#pending.rejectAll(new ClientClosedError());
    this.#connection.stop();
  }

  #call(kind: CallKind, id: string, frame: ClientFrame, what: string, timeoutMs?: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    let encoded: string | Uint8Array;
    try {
      encoded = this.#connection.encode(frame); // refuses an oversized frame before it kills the socket
    } catch (error) {
      return Promise.reject(error);
    }
    const { promise, isNew } = this.#pending.add(kind, id, frame, what, timeoutMs);
    if (isNew && this.#connection.send(encoded)) this.#pending.markSent(kind, id);
    return promise;
  }

  #onOpen(): void {
    this.#subscriptions.onOpen();
    for (const frame of this.#pending.takeUnsent()) {
      try {
        this.#connection.send(frame);
      } catch (error) {
        this.#reportError(error);
      }
    }
    this.#startHeartbeat();
    this.#emitter.emit('open', undefined);
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat();
    const heartbeat = this.#heartbeat;
    if (!heartbeat) return;
    const socket = this.#connection.socket;
    this.#heartbeatTimer = setInterval(() => {
      if (this.#connection.socket !== socket) return;
      const id = this.#newId();
      this.#call('pong', id, { op: 'ping', id }, 'heartbeat', heartbeat.timeoutMs).catch((error: unknown) => {
        // Only a silent socket is dead; a disconnect or close is already being handled.
        if (error instanceof TimeoutError && this.#connection.socket === socket) this.#connection.reconnect('heartbeat timeout');
      });
    }, heartbeat.intervalMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.op) {
      case 'snapshot':
        this.#subscriptions.handleSnapshot(frame);
        return;
      case 'update':
        this.#subscriptions.handleUpdate(frame);
        return;
      case 'result':
        if (frame.ok) this.#pending.resolve('result', frame.ref, frame);
        else {
          const code = frame.error?.code ?? 'error';
          this.#pending.reject('result', frame.ref, new ServerError(code, frame.error?.message ?? code, frame));
        }
        return;
      case 'pong':
        if (typeof frame.id === 'string') this.#pending.resolve('pong', frame.id);
        return;
      case 'error':
        this.#onErrorFrame(frame);
        return;
      case 'ended':
        this.#subscriptions.handleEnded(frame.topic, frame.reason);
        return;
      default:
        // Forward compatibility: a newer server may push frames this SDK does not know yet.
        return;
    }
  }

  #onErrorFrame(frame: ErrorFrame): void {
    const error = new ServerError(frame.code, frame.message);
    const ref = frame.ref;
    if (ref !== undefined) {
      if (this.#pending.reject('result', ref, error) || this.#pending.reject('pong', ref, error)) return;
    }
    // A refused sub names its topic (in `topic`, or in `ref` since a sub carries no id).
    const topic = frame.topic ?? ref;
    if (topic !== undefined && this.#subscriptions.handleError(topic, frame.code, frame.message)) return;
    this.#reportError(error);
  }

  #newId(): string {
    return `${this.#idPrefix}${++this.#nextId}`;
  }

  #reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    // Without a listener, or when an 'error' listener itself throws (which would recurse), log it:
    // throwing from inside a socket callback would crash a Node process.
    if (this.#emittingError || this.#emitter.listenerCount('error') === 0) {
      console.error('[omnistream client]', err);
      return;
    }
    this.#emittingError = true;
    try {
      this.#emitter.emit('error', err);
    } finally {
      this.#emittingError = false;
    }
  }
}

function randomPrefix(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  // randomUUID: Node ≥ 19 and browsers in secure contexts; elsewhere 2 × 52 random bits will do.
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  return `${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}
