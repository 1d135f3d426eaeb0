// GET /v1/commerce/stats?window=1h&by=channel|location (docs/protocol.md, "Commerce figures"): the
// figures of the orders placed in the window ending now, from committed state. For supervisors
// and admins: revenue and rates are the business's figures, not a shopper's, a store's or a feed's.

import { statsRequest, type CommerceStats } from '../../engine/mod.ts';
import { tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

const READERS: ReadonlySet<string> = new Set(['supervisor', 'admin']);

export const getCommerceStats: RouteHandler = (reply, _res, req, ctx) => {
  const format = formatOfAccept(req.getHeader('accept'));
  const window = req.getQuery('window');
  const by = req.getQuery('by');
  const principal = tokenHolderOf(reply, req, ctx, format);
  if (principal === undefined) return;
  if (!READERS.has(principal.role)) return reply.error(403, 'forbidden', 'only supervisor and admin tokens may read the commerce figures', format);

  const request = statsRequest(window, by);
  if ('problem' in request) return reply.error(400, 'bad_request', request.problem, format);
  // The window ends at the gateway's clock: the same clock the engine keeps its 24 h of buckets by.
  const answer = ctx.engine.query('commerce', 'stats', { window: request.window, by: request.by, now: ctx.now() }) as CommerceStats | undefined;
  if (answer === undefined || 'error' in answer) return reply.error(500, 'internal', 'the commerce figures could not be read', format);
  reply.json(200, answer, format);
};
