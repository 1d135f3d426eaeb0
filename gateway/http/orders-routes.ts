// GET /v1/orders/:order and GET /v1/customers/:subject/orders (docs/protocol.md, section 4): an
// order as its `order/<id>` topic shows it, and a customer's recent orders, newest first, from
// committed state.
//
// An order is readable like its topic: by its customer (any of the customer's linked ids), by the
// associates of a store it touches, and by the roles that read everything. Anyone else asking
// gets the same 403 whether or not the order exists, so the answer never tells which order ids
// exist; only those who may read it learn that it does not (404).

import { idProblem, orderParties, orderView, type StateView } from '../../engine/mod.ts';
import { mayRead, readsEverything } from '../auth/roles.ts';
import { committedView } from '../engine-port.ts';
import { decoded, tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

/** The customers domain's `orders` query (engine/customers/orders.ts). */
interface CustomerOrders {
  customer?: string;
  orders: string[];
  kept: number;
}

export const getOrder: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const id = decoded(reply, req.getParameter(0), 'the order id', format);
  if (id === undefined) return;
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;

  // The check and the answer both read the order's record: it is read and decoded once.
  const view = readOnce(committedView(ctx.engine));
  // An id no event could carry names no order.
  const valid = idProblem(id) === null;
  const parties = valid ? orderParties(view, id) : undefined;
  const readable = mayRead(principal, `order/${id}`, { publicStock: ctx.publicStock, ...ctx.orderFacts, lookupOrder: () => parties });
  if (!readable) return reply.error(403, 'forbidden', 'this token may not read this order', format);
  const order = valid ? orderView(view, id) : undefined;
  if (order === undefined) return reply.error(404, 'not_found', `no order ${JSON.stringify(id.slice(0, 200))}`, format);
  reply.json(200, order, format);
};

/**
 * Readable by the customer itself (its token's sub is any id of the customer the subject names)
 * and by the roles that read everything; a customer asking for anyone else gets 403 whether or
 * not that subject exists.
 */
export const getCustomerOrders: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const subject = decoded(reply, req.getParameter(0), 'the subject', format);
  if (subject === undefined) return;
  const limitText = req.getQuery('limit');
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;
  if (idProblem(subject) !== null) return reply.error(400, 'bad_request', `subject ${idProblem(subject)}`, format);

  const listed = ctx.engine.query('customers', 'orders', { subject }) as CustomerOrders | undefined;
  if (listed === undefined) return reply.error(404, 'not_found', 'this server keeps no customers', format);
  const limit = limitText === undefined || limitText === '' ? listed.kept : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > listed.kept) {
    return reply.error(400, 'bad_request', `limit must be an integer 1–${listed.kept} (the orders kept per customer)`, format);
  }
  const own = principal.role === 'customer' && ctx.orderFacts.sameCustomer?.(principal.sub, subject) === true;
  if (!own && !readsEverything(principal)) return reply.error(403, 'forbidden', "this token may not read this customer's orders", format);
  if (listed.customer === undefined) return reply.error(404, 'not_found', `no customer known as ${JSON.stringify(subject.slice(0, 200))}`, format);

  const view = committedView(ctx.engine);
  const orders = [];
  for (const id of listed.orders) {
    if (orders.length >= limit) break;
    // An order the list names but whose record is not readable (still placing) is left out.
    const order = orderView(view, id);
    if (order !== undefined) orders.push(order);
  }
  reply.json(200, { customer: listed.customer, orders }, format);
};

/** `view` with each key read at most once (one request's reads: all from the same committed state). */
function readOnce(view: StateView): StateView {
  const read = new Map<string, unknown>();
  return {
    get: <T>(key: string): T | undefined => {
      if (!read.has(key)) read.set(key, view.get(key));
      return read.get(key) as T | undefined;
    },
  };
}
