// GET /v1/customers/:subject (docs/protocol.md, section 4): the data-subject export — everything
// the server holds about the customer a subject names, from committed state. Each domain reads its
// own part: the customers domain its ids, profile, identity log, sessions and order summaries
// (query `export`), the stock domain each order in full, the service domain the customer's
// requests with their messages (query `requests`) and its cases with their notes (query `cases`).
//
// For supervisors and admins only: anyone else gets 403 whether or not the subject exists, so the
// answer never tells who is a customer.

import { idProblem, orderView, type CustomerExport, type RequestExport } from '../../engine/mod.ts';
import { committedView } from '../engine-port.ts';
import { decoded, tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

const READERS: ReadonlySet<string> = new Set(['supervisor', 'admin']);

export const getCustomerExport: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const subject = decoded(reply, req.getParameter(0), 'the subject', format);
  if (subject === undefined) return;
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;
  if (!READERS.has(principal.role)) return reply.error(403, 'forbidden', "only supervisor and admin tokens may read a customer's data", format);
  if (idProblem(subject) !== null) return reply.error(400, 'bad_request', `subject ${idProblem(subject)}`, format);

  const held = ctx.engine.query('customers', 'export', { subject }) as CustomerExport | undefined;
  if (held === undefined) return reply.error(404, 'not_found', `no customer known as ${JSON.stringify(subject.slice(0, 200))}`, format);
  const view = committedView(ctx.engine);
  // An order still being placed has no full view yet: its summary is what is held.
  const orders = held.orders.map((summary) => orderView(view, summary.order) ?? summary);
  const requests = (ctx.engine.query('service', 'requests', { subject: held.customer }) as RequestExport[] | undefined) ?? [];
  const cases = (ctx.engine.query('service', 'cases', { subject: held.customer }) as { cases: unknown[] } | undefined)?.cases ?? [];
  reply.json(200, { ...held, orders, requests, cases }, format);
};
