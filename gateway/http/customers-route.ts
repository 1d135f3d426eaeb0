// GET /v1/customers/:subject/recommendations?location=&limit= (docs/protocol.md, section 4): the ranked next
// items of the customer's current session, left out what has nothing available at `location`
// (anywhere, without one), from committed state.
//
// Readable like `recs/<customer>`: by the customer itself (its token's sub is any id of the
// customer the subject resolves to) and by the roles that read everything. A customer asking for anyone
// else gets 403 whether or not that subject exists.

import { idProblem, resolveCustomer, type Recommendations } from '../../engine/mod.ts';
import { committedView } from '../engine-port.ts';
import { decoded, tokenHolderOf } from './caller.ts';
import { mayRead } from '../auth/roles.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

const DEFAULT_RECS_LIMIT = 20;
const MAX_RECS_LIMIT = 100;

type Answer = Recommendations | { error: 'unknown_location' | 'not_found' } | undefined;

export const getRecommendations: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const subject = decoded(reply, req.getParameter(0), 'the subject or location', format);
  if (subject === undefined) return;
  const rawLocation = req.getQuery('location');
  const location = rawLocation === undefined || rawLocation === '' ? undefined : decoded(reply, rawLocation, 'the subject or location', format);
  if (rawLocation && location === undefined) return;
  const limitText = req.getQuery('limit');
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;

  const limit = limitText === undefined || limitText === '' ? DEFAULT_RECS_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RECS_LIMIT) {
    return reply.error(400, 'bad_request', `limit must be an integer 1–${MAX_RECS_LIMIT}`, format);
  }
  if (idProblem(subject) !== null) return reply.error(400, 'bad_request', `subject ${idProblem(subject)}`, format);
  if (location !== undefined && idProblem(location, true) !== null) {
    return reply.error(400, 'bad_request', `location ${idProblem(location, true)}`, format);
  }

  const view = committedView(ctx.engine);
  const customer = resolveCustomer(view, subject);
  // The customer itself, whichever of its ids the token and the path name.
  const own = principal.role === 'customer' && (principal.sub === subject || (customer !== undefined && resolveCustomer(view, principal.sub) === customer));
  if (!own && !mayRead(principal, `recs/${customer ?? subject}`, { publicStock: ctx.publicStock })) {
    return reply.error(403, 'forbidden', 'this token may not read these recommendations', format);
  }
  const answer = ctx.engine.query('customers', 'recommendations', { subject, location, limit }) as Answer;
  if (answer === undefined || 'error' in answer) {
    if (answer?.error === 'unknown_location') return reply.error(400, 'unknown_location', `no location ${JSON.stringify(location)}`, format);
    return reply.error(404, 'not_found', `no customer known as ${JSON.stringify(subject.slice(0, 200))}`, format);
  }
  reply.json(200, answer, format);
};
