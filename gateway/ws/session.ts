// What the server does with each client frame: decode it, check the rate and the role, and
// answer. Runs inside uWS's message callback (corked); event results come back after the
// commit, outside any callback, and go through WsConnection.deliver which corks them.

import { EngineClosedError, type EventResult } from '../../engine/mod.ts';
import { mayRead, maySend, parseTopic, type OrderFacts, type RequestLookup } from '../auth/roles.ts';
import type { GatewayEngine } from '../engine-port.ts';
import { decode } from '../http/codec.ts';
import type { InFlight } from '../in-flight.ts';
import type { WsConnection } from './connection.ts';
import { CLOSE, type WsLimits } from './limits.ts';
import { opToEvent, parseOp, type ClientOp } from './ops.ts';
import { errorMessage, OutMessage } from './out-message.ts';
import type { TopicHub } from './topic-hub.ts';

export interface SessionContext {
  engine: GatewayEngine;
  hub: TopicHub<WsConnection>;
  limits: WsLimits;
  publicStock: boolean;
  lookupRequest: RequestLookup;
  orderFacts: OrderFacts;
  /** Event ops awaiting their commit: shutdown waits for them like for HTTP requests. */
  inFlight: InFlight;
  isDraining(): boolean;
}

export function handleFrame(ctx: SessionContext, conn: WsConnection, frame: ArrayBuffer, isBinary: boolean): void {
  if (!conn.fixedFormat) conn.format = isBinary ? 'msgpack' : 'json';
  // Read in place: uWS neuters the ArrayBuffer when this callback returns, but the strict
  // decoder copies every string out and keeps no view into the frame.
  const decoded = decode(new Uint8Array(frame), isBinary ? 'msgpack' : 'json');
  const parsed = decoded.ok ? parseOp(decoded.value) : { ok: false as const, message: decoded.message };
  // Parsed before the rate check (a frame is at most 64 KiB): a refused op is named by its ref,
  // so the client knows which sub, unsub or call was dropped and can retry it.
  if (!conn.bucket.take()) {
    const message = 'too many ops; slow down and resend';
    // A dropped event or agent op is answered like any refused event; a dropped sub, unsub or ping is an error.
    if (parsed.ok && sendsEvent(parsed.op)) return conn.deliver(result(refOf(parsed.op) ?? null, refusal('rate_limited', message)));
    return conn.deliver(errorMessage('rate_limited', message, parsed.ok ? refOf(parsed.op) : undefined));
  }
  if (!parsed.ok) {
    conn.badFrames++;
    if (conn.badFrames >= ctx.limits.maxBadFrames) return conn.end(CLOSE.policy, 'too many bad frames');
    return conn.deliver(errorMessage('bad_frame', parsed.message, parsed.ref));
  }
  dispatch(ctx, conn, parsed.op);
}

function sendsEvent(op: ClientOp): boolean {
  return op.op !== 'sub' && op.op !== 'unsub' && op.op !== 'ping';
}

/** What an answer about `op` names: its topic, its event's id, or its own id. */
function refOf(op: ClientOp): string | undefined {
  if (op.op === 'sub' || op.op === 'unsub') return op.topic;
  if (op.op === 'event') return typeof op.event.id === 'string' ? op.event.id : undefined;
  return 'id' in op && typeof op.id === 'string' ? op.id : undefined;
}

function dispatch(ctx: SessionContext, conn: WsConnection, op: ClientOp): void {
  switch (op.op) {
    case 'ping':
      return conn.deliver(new OutMessage(op.id === undefined ? { op: 'pong' } : { op: 'pong', id: op.id }));
    case 'sub':
      return subscribe(ctx, conn, op.topic, op.since, op.epoch);
    case 'unsub':
      if (ctx.hub.unsubscribe(conn, op.topic)) conn.topics.delete(op.topic);
      conn.forget(op.topic);
      return;
    case 'event':
      return send(ctx, conn, op.event, typeof op.event.id === 'string' ? op.event.id : undefined);
    default:
      return send(ctx, conn, opToEvent(op, conn.principal), op.id);
  }
}

function subscribe(ctx: SessionContext, conn: WsConnection, topic: string, since?: number, epoch?: string): void {
  if (parseTopic(topic) === undefined) return conn.deliver(errorMessage('bad_frame', `no such topic ${JSON.stringify(topic.slice(0, 200))}`, topic));
  const readable = mayRead(conn.principal, topic, { publicStock: ctx.publicStock, lookupRequest: ctx.lookupRequest, ...ctx.orderFacts, transport: 'ws' });
  if (!readable) return conn.deliver(errorMessage('forbidden', 'this token may not read this topic', topic));
  if (!conn.topics.has(topic) && conn.topics.size >= ctx.limits.maxSubscriptions) {
    return conn.deliver(errorMessage('too_many_subscriptions', `at most ${ctx.limits.maxSubscriptions} subscriptions per connection`, topic));
  }
  const spent = conn.topics.has(topic) ? undefined : ctx.hub.admit(conn);
  if (spent !== undefined) {
    return conn.deliver(errorMessage('too_many_subscriptions', `the server's ${spent.limit} ${spent.name.replace('_', ' ')} are taken; retry later`, topic));
  }
  // A repeated sub starts over: anything still queued for the old one would duplicate the replay.
  conn.forget(topic);
  conn.topics.add(topic);
  const first = ctx.hub.subscribe(conn, topic, since, epoch, conn.replayBudget);
  // A snapshot is an answer like any other; a replay (updates, seq set) goes out whole, unconflated.
  if (first.length === 1 && first[0].seq === undefined) conn.deliver(first[0]);
  else conn.deliverReplay(first);
}

function send(ctx: SessionContext, conn: WsConnection, event: Record<string, unknown>, ref: string | undefined): void {
  // Refused here or by the engine, an event is answered by a `result`, as in HTTP's results.
  if (!maySend(conn.principal, event, { lookupRequest: ctx.lookupRequest, ...ctx.orderFacts, transport: 'ws' })) {
    return conn.deliver(result(ref ?? null, refusal('forbidden', 'this token may not send this event')));
  }
  if (ctx.isDraining()) return conn.deliver(result(ref ?? null, refusal('unavailable', 'the server is shutting down')));
  ctx.inFlight.enter();
  let pending: Promise<EventResult[]>;
  try {
    pending = ctx.engine.submit([event]);
  } catch (err) {
    pending = Promise.reject(err);
  }
  pending
    .then(
      ([answer]) => conn.deliver(result(ref ?? answer.id, answer)),
      (err: unknown) => {
        if (!(err instanceof EngineClosedError) && (err as { code?: unknown } | null)?.code !== 'unavailable') console.error('omni: WebSocket event failed:', err);
        conn.deliver(result(ref ?? null, refusal('unavailable', 'the event could not be processed; resend it')));
      },
    )
    .finally(() => ctx.inFlight.leave());
}

function result(ref: string | null, answer: EventResult): OutMessage {
  const { id: _id, ok, ...extras } = answer;
  return new OutMessage({ op: 'result', ref, ok, ...extras });
}

function refusal(code: 'forbidden' | 'rate_limited' | 'unavailable', message: string): EventResult {
  return { id: null, ok: false, error: { code, message } };
}

