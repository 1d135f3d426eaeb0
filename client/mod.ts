// The SDK's only public entry point: import from 'client/mod.ts', never from the other files.
//
//   import { connect } from './client/mod.ts';
//   import { WebSocket } from 'ws'; // Node only; browsers have a global WebSocket
//   const client = connect({ url: 'http://127.0.0.1:8080', token, format: 'msgpack', WebSocket });
//   const stop = client.subscribe('stock/A', { onSnapshot(data, seq) {…}, onUpdate(data, seq, ts) {…} });
//   const result = await client.send({ id: 'e1', type: 'stock.received', sku: 'A', location: 'S1', qty: 3 });

import { OmniClient } from './client.ts';
import type { ConnectOptions } from './types.ts';

/** Creates a client and starts connecting; it reconnects by itself until client.close(). */
export function connect(options: ConnectOptions): OmniClient {
  return new OmniClient(options).start();
}

export { OmniClient, DEFAULT_HEARTBEAT, DEFAULT_MAX_FRAME_BYTES, DEFAULT_TIMEOUT_MS } from './client.ts';
export { Backoff, DEFAULT_BACKOFF } from './backoff.ts';
export { codecFor, decodeFrame, type Codec } from './codec.ts';
// The update fast path for receivers of many updates (the load generator), and the msgpack readers
// it is made of, for scanning other layouts the same way.
export { msgpackNumberBytes, readMsgpackNumber, readTrailingTs, scanJsonUpdate, scanMsgpackUpdate, scanUpdate, startsWithBytes, type ScannedUpdate } from './update-scan.ts';
export { CLOSE_GOING_AWAY, CLOSE_RECONNECT, CLOSE_TOO_BIG, CLOSE_TOO_SLOW, buildUrl } from './connection.ts';
export { topicKind, type TopicKind } from './subscriptions.ts';
export { ClientClosedError, DisconnectedError, OmniError, ServerError, TimeoutError } from './errors.ts';
export { OPEN } from './types.ts';
export type {
  ActionOp,
  BackoffOptions,
  ClientEvents,
  ClientFrame,
  CloseInfo,
  ConnectOptions,
  ErrorFrame,
  EventOp,
  Format,
  HeartbeatOptions,
  MessageOp,
  OmniEvent,
  PingOp,
  PongFrame,
  ReconnectInfo,
  RequestOp,
  ResultFrame,
  ServerFrame,
  SnapshotFrame,
  StatusOp,
  SubOp,
  SubscriptionHandlers,
  TokenSource,
  UnsubOp,
  UpdateFrame,
  WebSocketConstructor,
  WebSocketLike,
} from './types.ts';
