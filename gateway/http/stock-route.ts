// GET /v1/stock/:sku (docs/protocol.md, section 4): the committed totals of one SKU with its locations.

import { idProblem } from '../../engine/mod.ts';
import { callerOf, decoded } from './caller.ts';
import { mayRead } from '../auth/roles.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

export const getStock: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const sku = decoded(reply, req.getParameter(0), 'the sku', format);
  if (sku === undefined) return;
  const principal = callerOf(reply, req, ctx, format);
  if (principal === undefined) return;
  const topic = `stock/${sku}`;
  if (!mayRead(principal, topic, { publicStock: ctx.publicStock, lookupRequest: ctx.lookupRequest })) {
    // Anonymous callers are told to authenticate; a token that is merely not enough is forbidden.
    return principal.role === 'anonymous'
      ? reply.error(401, 'unauthorized', 'stock is not public on this server; a bearer token is required', format)
      : reply.error(403, 'forbidden', 'this token may not read stock', format);
  }

  // A SKU the engine would never accept cannot have stock; '@' would name a location topic.
  const snapshot = idProblem(sku, true) === null ? ctx.engine.snapshot(topic) : undefined;
  if (snapshot === undefined) {
    return reply.error(404, 'not_found', `no stock known for sku ${JSON.stringify(sku.slice(0, 200))}`, format);
  }
  const data = typeof snapshot.data === 'object' && snapshot.data !== null ? snapshot.data : { data: snapshot.data };
  reply.json(200, { ...data, seq: snapshot.seq }, format);
};
