// The figures routes (GET /v1/commerce/stats, GET /v1/service/stats): a window and a dimension
// checked, then the processor's `stats` query over the window ending now, from committed state.
// For supervisors and admins only: the figures are the business's, not a customer's, an agent's,
// a store's or a feed's.

import { tokenHolderOf } from './caller.ts';
import { formatOfAccept } from './codec.ts';
import type { RouteHandler } from './context.ts';

const READERS: ReadonlySet<string> = new Set(['supervisor', 'admin']);

export interface FiguresRoute {
  /** The processor whose `stats` query answers. */
  processor: string;
  /** What the figures are, for error messages: "the commerce figures". */
  what: string;
  /** The window and dimension asked for, or a sentence saying what is wrong. */
  parse: (window: unknown, by: unknown) => { window: string; by: string } | { problem: string };
}

export function figuresRoute({ processor, what, parse }: FiguresRoute): RouteHandler {
  return (reply, _res, req, ctx) => {
    const format = formatOfAccept(req.getHeader('accept'));
    const window = req.getQuery('window');
    const by = req.getQuery('by');
    const principal = tokenHolderOf(reply, req, ctx, format);
    if (principal === undefined) return;
    if (!READERS.has(principal.role)) return reply.error(403, 'forbidden', `only supervisor and admin tokens may read ${what}`, format);

    const request = parse(window, by);
    if ('problem' in request) return reply.error(400, 'bad_request', request.problem, format);
    // The window ends at the gateway's clock: the same clock the engine keeps its 24 h of buckets by.
    const answer = ctx.engine.query(processor, 'stats', { window: request.window, by: request.by, now: ctx.now() }) as object | undefined;
    if (answer === undefined || 'error' in answer) return reply.error(500, 'internal', `${what} could not be read`, format);
    reply.json(200, answer, format);
  };
}
