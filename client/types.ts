// Shapes shared by the SDK: the wire protocol (docs/protocol.md, section 5), the WebSocket surface it needs, and
// the options and callbacks an application sees. Kept free of DOM and Node types so the same code
// type-checks and runs in browsers and in Node (where the caller passes the 'ws' package).

// ---- The WebSocket the SDK needs -------------------------------------------------------------

/**
 * The part of the WHATWG WebSocket the SDK uses. Browser WebSocket and the 'ws' package both
 * satisfy it; tests pass an in-memory fake. Only the `on*` handler properties are used, because
 * every implementation has them (ws's `.on()` and the browser's `addEventListener` differ).
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  // The events are typed `any` on purpose: each implementation declares its own event classes, and
  // a narrower type here would make `connect({ WebSocket })` need a cast for 'ws' and the DOM alike.
  // The connection reads only `code`/`reason` (close), `data` (message) and `message` (error).
  onopen: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** readyState values (the constructor statics are not on every implementation's type). */
export const OPEN = 1;

// ---- Wire protocol ---------------------------------------------------------------------------

export type Format = 'json' | 'msgpack';

/** An event as in docs/protocol.md, section 3: an id (the idempotency key) and a type, plus its fields. */
export interface OmniEvent {
  id: string;
  type: string;
  ts?: number;
  [field: string]: unknown;
}

export interface SubOp { op: 'sub'; topic: string; since?: number; epoch?: string }
export interface UnsubOp { op: 'unsub'; topic: string }
export interface PingOp { op: 'ping'; id?: string }
export interface EventOp { op: 'event'; event: OmniEvent }
export interface StatusOp { op: 'status'; status: 'available' | 'away' | (string & {}); id?: string }
export interface RequestOp { op: 'accept' | 'decline' | 'complete'; request: string; id?: string }
export interface MessageOp { op: 'message'; request: string; text: string; id?: string }

/** The agent and customer ops that the server answers with a `result` (matched by `id`). */
export type ActionOp = StatusOp | RequestOp | MessageOp;
export type ClientFrame = SubOp | UnsubOp | PingOp | EventOp | ActionOp;

export interface SnapshotFrame { op: 'snapshot'; topic: string; seq: number; epoch: string; data: unknown }
export interface UpdateFrame { op: 'update'; topic: string; seq: number; data: unknown; ts: number }
export interface ErrorFrame { op: 'error'; code: string; message: string; ref?: string; topic?: string }
export interface PongFrame { op: 'pong'; id?: string }
/** The server ended a subscription as a matter of course, e.g. an agent's `request/<id>` once the request is completed (`reason`). */
export interface EndedFrame { op: 'ended'; topic: string; reason: string }

/** The answer to an event or op. Extra fields (e.g. `allocation`, `duplicate`) ride along. */
export interface ResultFrame {
  op: 'result';
  ref: string;
  ok: boolean;
  error?: { code: string; message: string; [field: string]: unknown };
  duplicate?: boolean;
  [field: string]: unknown;
}

export type ServerFrame = SnapshotFrame | UpdateFrame | ErrorFrame | PongFrame | ResultFrame | EndedFrame;

// ---- Application-facing options and callbacks ------------------------------------------------

export interface BackoffOptions {
  /** Upper bound of the first retry's delay. */
  initialMs: number;
  /** The cap the exponential growth stops at. */
  maxMs: number;
  /**
   * How much of the delay is randomised: 1 (or true) = full jitter, a uniform pick in [0, cap];
   * 0 (or false) = always the cap. Full jitter keeps a fleet of clients from reconnecting in step
   * after a server restart.
   */
  jitter: number | boolean;
}

export interface HeartbeatOptions {
  intervalMs: number;
  timeoutMs: number;
}

/** A fixed token, or a function asked before every (re)connect, so an expiring JWT can be renewed. */
export type TokenSource = string | (() => string | Promise<string>);

export interface ConnectOptions {
  /** ws(s)://host:port[/v1/ws] or http(s)://host:port; '/v1/ws' is added when no path is given. */
  url: string;
  token?: TokenSource;
  /** Wire format, sent as `?format=`. Default 'json'. */
  format?: Format;
  /** Default globalThis.WebSocket. Node 20 has none: pass `WebSocket` from the 'ws' package. */
  WebSocket?: WebSocketConstructor;
  backoff?: Partial<BackoffOptions>;
  /** How long send/op/ping wait for their answer (including time spent waiting to connect). */
  timeoutMs?: number;
  /** Frames above this many bytes are refused locally: the server closes with 1009 on them. */
  maxFrameBytes?: number;
  /**
   * Client pings that notice a dead connection: on a half-open TCP link no close ever arrives, and
   * browsers expose no protocol-level ping. No pong within timeoutMs → drop the socket and resume
   * elsewhere. Default { intervalMs: 30000, timeoutMs: 10000 }; false turns it off.
   */
  heartbeat?: HeartbeatOptions | false;
  /** For tests: the random source of the jitter. */
  random?: () => number;
}

export interface SubscriptionHandlers<T = unknown> {
  /** The full state of the topic at `seq`; called first, and again whenever the SDK resynchronises. */
  onSnapshot(data: T, seq: number): void;
  /** Called once per update, in `seq` order, never twice for one seq. */
  onUpdate(data: unknown, seq: number, ts: number): void;
  /**
   * The SDK saw a hole it cannot fill from the stream (an event topic skipped a seq) and is
   * resubscribing; the missing updates, or a fresh snapshot, follow.
   */
  onGap?(): void;
  /** A server error about this topic; after a refusal for good (e.g. `forbidden`) the SDK forgets the topic. */
  onError?(error: Error): void;
  /**
   * The server ended the subscription as a matter of course: `reason` `completed` (the request
   * was completed) or `unassigned` (an agent's request went to someone else). Nothing more comes
   * and the SDK forgets the topic; subscribe again to follow it anew.
   */
  onEnd?(reason: string): void;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** False only after client.close(). */
  willReconnect: boolean;
}

export interface ReconnectInfo {
  /** 1 for the first retry after a close. */
  attempt: number;
  delayMs: number;
}

export interface ClientEvents {
  open: void;
  close: CloseInfo;
  reconnecting: ReconnectInfo;
  error: Error;
}
