// POST /v1/events (docs/protocol.md, section 4): one event or an array, JSON or msgpack, answered in the same
// format once the engine has made the batch durable.

import { EngineClosedError, type EventResult } from '../../engine/mod.ts';
import { maySend } from '../auth/roles.ts';
import type { Principal } from '../auth/principal.ts';
import { readBody, type BodyOutcome } from './body.ts';
import { tokenHolderOf } from './caller.ts';
import { decode, formatOfContentType, type WireFormat } from './codec.ts';
import type { GatewayContext, RouteHandler } from './context.ts';
import type { Reply } from './reply.ts';

export const postEvents: RouteHandler = (reply, res, req, ctx) => {
  const format = formatOfContentType(req.getHeader('content-type'));
  if (ctx.draining) return reply.error(503, 'unavailable', 'the server is shutting down', format);

  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;

  const limits = { maxBytes: ctx.limits.maxBodyBytes, memory: ctx.bodyMemory };
  readBody(res, reply, limits, req.getHeader('content-length'), (outcome) => {
    // This runs inside uWS's onData callback, outside the route's try/catch.
    try {
      // 503, not 429: what ran out is the server's memory for all uploads together, not this
      // caller's allowance; 503 with Retry-After is what clients and proxies retry unprompted.
      if (outcome.kind === 'over_budget') {
        return reply.error(503, 'unavailable', 'the server holds as many unfinished uploads as it may; retry shortly', format, { 'Retry-After': '1' });
      }
      handleBody(ctx, reply, principal, outcome, format);
    } catch (error) {
      // Passing (a cluster node without its NATS connection): the client retries after a pause.
      if ((error as { code?: unknown } | null)?.code === 'unavailable') {
        return reply.error(503, 'unavailable', (error as Error).message, format, { 'Retry-After': '1' });
      }
      console.error('omni: POST /v1/events failed:', error);
      reply.error(500, 'internal', 'the events could not be processed', format);
    }
  });
};

function handleBody(ctx: GatewayContext, reply: Reply, principal: Principal, outcome: BodyOutcome, format: WireFormat): void {
  const { maxBodyBytes, maxEvents } = ctx.limits;
  if (outcome.kind === 'too_large') return reply.error(413, 'too_large', `the body exceeds ${maxBodyBytes} bytes`, format);

  const decoded = decode(outcome.body, format);
  if (!decoded.ok) return reply.error(400, 'bad_request', decoded.message, format);
  const events = asEventList(decoded.value);
  if (events === undefined) return reply.error(400, 'bad_request', 'the body must be an event object or an array of events', format);
  if (events.length > maxEvents) return reply.error(413, 'too_large', `at most ${maxEvents} events per request`, format);
  if (events.length === 0) return reply.json(200, { results: [] }, format);

  if (principal.role === 'ingest' || principal.role === 'admin') return submit(ctx, reply, events, format);
  const allowed = events.map((event) => maySend(principal, event, { lookupRequest: ctx.lookupRequest, ...ctx.orderFacts, transport: 'http' }));
  submit(ctx, reply, events.filter((_, i) => allowed[i]), format, (results) => mergeForbidden(events, allowed, results));
}

function submit(
  ctx: GatewayContext,
  reply: Reply,
  events: unknown[],
  format: WireFormat,
  complete: (results: EventResult[]) => EventResult[] = (results) => results,
): void {
  let pending: Promise<EventResult[]>;
  try {
    pending = events.length === 0 ? Promise.resolve([]) : ctx.engine.submit(events);
  } catch (error) {
    // We run inside a uWS callback: a synchronous throw must not escape into native code.
    pending = Promise.reject(error);
  }
  pending.then(
    (results) => reply.json(200, { results: complete(results) }, format),
    (error: unknown) => {
      // After a failed commit the engine rejects with that failure: also a 503, as a restart
      // (not the client) is what fixes it.
      if (error instanceof EngineClosedError || ctx.engineClosed) {
        ctx.engineClosed = true;
        return reply.error(503, 'unavailable', (error as Error).message, format);
      }
      // Passing (a cluster node without its NATS connection): the client retries after a pause.
      if ((error as { code?: unknown } | null)?.code === 'unavailable') {
        return reply.error(503, 'unavailable', (error as Error).message, format, { 'Retry-After': '1' });
      }
      console.error('omni: POST /v1/events failed:', error);
      reply.error(500, 'internal', 'the events could not be processed', format);
    },
  );
}

function asEventList(body: unknown): unknown[] | undefined {
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && !ArrayBuffer.isView(body)) return [body];
  return undefined;
}

/** Puts a `forbidden` answer where each refused event stood, the engine's answers elsewhere. */
function mergeForbidden(events: unknown[], allowed: boolean[], submitted: EventResult[]): EventResult[] {
  const merged: EventResult[] = [];
  let next = 0;
  for (let i = 0; i < events.length; i++) {
    merged.push(allowed[i] ? submitted[next++] : forbidden(events[i]));
  }
  return merged;
}

function forbidden(event: unknown): EventResult {
  const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
  return {
    id: typeof id === 'string' ? id : null,
    ok: false,
    error: { code: 'forbidden', message: 'this token may not send this event' },
  };
}
