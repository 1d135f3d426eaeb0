// GET /v1/requests/:request, GET /v1/requests/:request/messages and GET /v1/queues
// (docs/protocol.md, section 4): a service request's status and its messages, and the per-topic
// queue figures, from committed state.
//
// A request is readable by the customer it belongs to, the agent it is assigned to, and the
// roles that read everything (supervisor, ingest, admin). A customer or agent asking for any
// other request — someone else's, or one that does not exist — gets the same 403, so the answer
// never tells them which request ids exist; only readers of everything get 404.

import type { HttpRequest } from 'uWebSockets.js';
import { idProblem, renderQueues, type QueueStats, type RequestStatus } from '../../engine/mod.ts';
import { mayRead } from '../auth/roles.ts';
import { committedView } from '../engine-port.ts';
import { partiesOf } from '../request-lookup.ts';
import { decoded, tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { GatewayContext, RouteHandler } from './context.ts';
import type { Reply } from './reply.ts';

/** Queue permissions are per family (`queue/*`): any queue topic stands for all of them. */
const ANY_QUEUE = 'queue/*';

/**
 * The request the URL names, once the caller may read it (else the refusal is sent and
 * undefined returned): its id, its status as rendered, and the answer's format.
 */
function readableRequest(reply: Reply, req: HttpRequest, ctx: GatewayContext) {
  const format = formatOfAccept(req.getHeader('accept'));
  const id = decoded(reply, req.getParameter(0), 'the request id', format);
  if (id === undefined) return undefined;
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return undefined;

  const topic = `request/${id}`;
  // An id no event could carry names no request; one render serves the check and the answer.
  const snapshot = idProblem(id, true) === null ? ctx.engine.snapshot(topic) : undefined;
  const parties = partiesOf(snapshot?.data);
  if (!mayRead(principal, topic, { publicStock: ctx.publicStock, lookupRequest: () => parties })) {
    return void reply.error(403, 'forbidden', 'this token may not read this request', format);
  }
  if (snapshot === undefined) return void reply.error(404, 'not_found', `no request ${JSON.stringify(id.slice(0, 200))}`, format);
  return { id, format, status: snapshot.data as RequestStatus };
}

export const getRequest: RouteHandler = (reply, _res, req, ctx) => {
  const found = readableRequest(reply, req, ctx);
  if (found === undefined) return;
  // Whose request it is served the check; the answer is the contract's status.
  const { customer: _customer, subject: _subject, ...status } = found.status;
  reply.json(200, status, found.format);
};

/**
 * The request's messages so far, the assistant's among them: what a page shows when it starts
 * following a request, since what was said before it subscribed (the first words and the
 * assistant's answer come in the commit that raises the request) is not sent to it again.
 */
export const getRequestMessages: RouteHandler = (reply, _res, req, ctx) => {
  const found = readableRequest(reply, req, ctx);
  if (found === undefined) return;
  const messages = ctx.engine.query('service', 'messages', { request: found.id }) ?? [];
  reply.json(200, { request: found.id, messages }, found.format);
};

export const getQueues: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;
  if (!mayRead(principal, ANY_QUEUE, { publicStock: ctx.publicStock })) {
    return reply.error(403, 'forbidden', 'this token may not read the queues', format);
  }
  const queues = renderQueues(committedView(ctx.engine));
  const now = ctx.now();
  // fromEntries defines own properties, so even a topic named `__proto__` is just a key, and
  // the plain object encodes the same in JSON and msgpack.
  reply.json(200, Object.fromEntries(Object.entries(queues).map(([topic, stats]) => [topic, live(stats, now)])), format);
};

/**
 * The stored figures are measured at the queue's last change (`asOf`); the oldest waiting
 * request has waited on since, so the answer is brought forward to now.
 */
function live(stats: QueueStats, now: number): QueueStats {
  const since = Math.max(0, now - stats.asOf);
  return { ...stats, longestWaitMs: stats.waiting > 0 ? stats.longestWaitMs + since : 0, asOf: Math.max(now, stats.asOf) };
}
