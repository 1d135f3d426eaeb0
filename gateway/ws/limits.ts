// The WebSocket endpoint's bounds (contract §5 and issue B). Every one caps what a single client
// or a burst of topics can make the server hold, so memory stays bounded whoever connects.

export interface WsLimits {
  /** Inbound frames above this close the connection with 1009 (contract §5: 64 KiB). */
  maxPayloadBytes: number;
  /**
   * uWS's own cap (maxPayloadLength). uWS drops a connection past it without a close frame
   * (the client sees 1006), so it is set above maxPayloadBytes and we send the 1009 ourselves;
   * only frames past this larger cap are cut off abruptly, so no client can make us buffer more.
   */
  hardMaxPayloadBytes: number;
  /** Subscriptions per connection; more are answered `too_many_subscriptions`. */
  maxSubscriptions: number;
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
  /** Updates kept per topic for `sub` with `since`. */
  historyPerTopic: number;
  /** Bytes (as JSON) of history kept over all topics; past it, histories are dropped (idle ones first). */
  historyBytes: number;
  /** Topics tracked at once; past it, topics nobody subscribes to are forgotten early. */
  maxTopics: number;
  /** How long the history of a topic nobody subscribes to is kept, for resuming clients. */
  historyGraceMs: number;
  /** Seconds without traffic before uWS closes a connection (pings are sent automatically). */
  idleTimeoutS: number;
}

export const DEFAULT_WS_LIMITS: WsLimits = {
  maxPayloadBytes: 64 * 1024,
  hardMaxPayloadBytes: 1024 * 1024,
  maxSubscriptions: 1_000,
  opsPerSecond: 1_000,
  opsBurst: 2_000,
  maxBadFrames: 100,
  sendBufferBytes: 256 * 1024,
  maxQueuedBytes: 1024 * 1024,
  maxQueuedMessages: 10_000,
  historyPerTopic: 256,
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
  slowConsumer: 4008,
} as const;
