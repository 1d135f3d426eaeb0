// GET /v1/customers/:subject/cases (docs/protocol.md, "Cases"): the customer's cases with their
// status and notes, newest first, as its `cases/<customer>` topic shows them, from committed state.
//
// Readable by the customer itself (its token's sub is any id of the customer the subject names),
// supervisors and admins: a case's notes are about a person, so not by the ingest role, which
// reads everything else over HTTP. Anyone else gets 403 whether or not the subject exists, so the
// answer never tells who is a customer; only those who may read learn that it is not (404).

import { idProblem, resolveCustomer } from '../../engine/mod.ts';
import { mayRead } from '../auth/roles.ts';
import { committedView } from '../engine-port.ts';
import { decoded, tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

/** The service domain's `cases` query (engine/service/cases/customers.ts). */
interface CustomerCases {
  customer: string;
  cases: unknown[];
}

export const getCustomerCases: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const subject = decoded(reply, req.getParameter(0), 'the subject', format);
  if (subject === undefined) return;
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;
  if (idProblem(subject) !== null) return reply.error(400, 'bad_request', `subject ${idProblem(subject)}`, format);
  // Readable as its cases/<customer> topic is (gateway/auth/roles.ts).
  if (!mayRead(principal, `cases/${subject}`, { publicStock: ctx.publicStock, ...ctx.orderFacts })) return reply.error(403, 'forbidden', "this token may not read this customer's cases", format);

  const listed = ctx.engine.query('service', 'cases', { subject }) as CustomerCases | undefined;
  // Known: it has cases, or the identities know it (a customer without cases has an empty list).
  const known = listed !== undefined && (listed.cases.length > 0 || resolveCustomer(committedView(ctx.engine), subject) !== undefined);
  if (!known) return reply.error(404, 'not_found', `no customer known as ${JSON.stringify(subject.slice(0, 200))}`, format);
  reply.json(200, listed, format);
};
