// The WebSocket endpoint's bounds (docs/protocol.md, section 5). Every one caps what a single client
// or a burst of topics can make the server hold, so memory stays bounded whoever connects.

export interface WsLimits {
  /** Inbound frames above this close the connection with 1009 (docs/protocol.md, section 5: 64 KiB). */
  maxPayloadBytes: number;
  /**
   * uWS's own cap (maxPayloadLength). uWS drops a connection past it without a close frame
   * (the client sees 1006), so it is set above maxPayloadBytes and we send the 1009 ourselves;
   * only frames past this larger cap are cut off abruptly, so no client can make us buffer more.
   */
  hardMaxPayloadBytes: number;
  /** Subscriptions per connection; more are answered `too_many_subscriptions`. */
  maxSubscriptions: number;
  /**
   * Subscriptions over all connections; past it a `sub` is answered `too_many_subscriptions`.
   * A subscription to a topic nobody else watches costs about 1.2 KiB of heap (measured: 200,000
   * anonymous ones on distinct stock topics, 245 MiB after a full GC against 11 MiB idle), so the
   * default bounds them near 600 MiB.
   */
  maxTotalSubscriptions: number;
  /** The same over connections without a token, which anyone can open: a smaller share. */
  maxAnonymousSubscriptions: number;
  /** Open connections without a token; past it an anonymous upgrade is refused with 503. */
  maxAnonymousConnections: number;
  /** Token bucket per connection: sustained ops per second ... */
  opsPerSecond: number;
  /** ... and the burst it allows. Over it an op is answered `rate_limited`. */
  opsBurst: number;
  /** Malformed frames tolerated per connection before it is closed with 1008. */
  maxBadFrames: number;
  /** We stop handing frames to uWS above this many buffered bytes and queue them ourselves. */
  sendBufferBytes: number;
  /** Event-topic messages may queue up to this many bytes (with uWS's buffer) before 4008. */
  maxQueuedBytes: number;
  /** ... or this many messages. */
  maxQueuedMessages: number;
  /** Updates kept per state topic for `sub` with `since` (a state topic can always snapshot). */
  historyPerTopic: number;
  /**
   * Updates kept per event topic. Twice maxQueuedMessages: a client closed with 4008 missed at
   * most what was queued for it, so it can resume with `since` even if as many again arrive
   * while it reconnects; without this it would get a snapshot, i.e. lose those messages.
   */
  eventHistoryPerTopic: number;
  /**
   * Replayed updates (sub with `since`) queued for one connection at once; a replay that does
   * not fit what is left gets a snapshot instead. Replays are not conflated nor counted toward
   * 4008, so without this bound a client that never reads could pile up every topic's history.
   */
  maxReplayMessages: number;
  /** Bytes of history kept over all topics (both encodings); past it, histories are dropped (idle ones first). */
  historyBytes: number;
  /** Topics tracked at once; past it, topics nobody subscribes to are forgotten early. */
  maxTopics: number;
  /** How long the history of a topic nobody subscribes to is kept, for resuming clients. */
  historyGraceMs: number;
  /**
   * Seconds without receiving anything before uWS closes a connection: 0 (never) or 8–960
   * (uWS aborts the process otherwise, so startGateway refuses other values). uWS pings a
   * connection silent for part of it, so a client whose WebSocket answers pings stays open;
   * its timers tick every 4 s, so the close may come up to 4 s early.
   */
  idleTimeoutS: number;
}

export const DEFAULT_WS_LIMITS: WsLimits = {
  maxPayloadBytes: 64 * 1024,
  hardMaxPayloadBytes: 1024 * 1024,
  maxSubscriptions: 1_000,
  maxTotalSubscriptions: 500_000,
  maxAnonymousSubscriptions: 100_000,
  maxAnonymousConnections: 100_000,
  opsPerSecond: 1_000,
  opsBurst: 2_000,
  maxBadFrames: 100,
  sendBufferBytes: 256 * 1024,
  maxQueuedBytes: 1024 * 1024,
  maxQueuedMessages: 10_000,
  historyPerTopic: 256,
  eventHistoryPerTopic: 20_000,
  maxReplayMessages: 40_000,
  historyBytes: 64 * 1024 * 1024,
  maxTopics: 200_000,
  historyGraceMs: 60_000,
  idleTimeoutS: 120,
};

/** Close codes used by the endpoint. */
export const CLOSE = {
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  /** The token's `exp` passed: reconnect with a fresh token (and `since`). */
  tokenExpired: 4001,
  slowConsumer: 4008,
} as const;

/** Throws on limits uWS would not accept (it aborts the whole process on a bad idleTimeout). */
export function checkWsLimits(limits: WsLimits): void {
  const idle = limits.idleTimeoutS;
  if (!Number.isInteger(idle) || (idle !== 0 && (idle < 8 || idle > 960))) {
    throw new RangeError(`idleTimeoutS must be 0 or an integer from 8 to 960, not ${idle}`);
  }
  // The promise of 4008 (resume with since, nothing lost) needs the history to cover what was
  // queued, and a connection's replay budget to cover the history.
  if (limits.eventHistoryPerTopic < limits.maxQueuedMessages) {
    throw new RangeError(`eventHistoryPerTopic (${limits.eventHistoryPerTopic}) must be at least maxQueuedMessages (${limits.maxQueuedMessages})`);
  }
  if (limits.maxReplayMessages < limits.eventHistoryPerTopic) {
    throw new RangeError(`maxReplayMessages (${limits.maxReplayMessages}) must be at least eventHistoryPerTopic (${limits.eventHistoryPerTopic})`);
  }
}
