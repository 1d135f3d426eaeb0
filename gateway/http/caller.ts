// What every route reads first: who is calling (a bearer token required where the route says
// so) and its URL parts, percent-decoded. One wording of 401 and 400 for every route.

import type { HttpRequest } from 'uWebSockets.js';
import { authenticate } from '../auth/authenticate.ts';
import type { Principal } from '../auth/principal.ts';
import type { WireFormat } from './codec.ts';
import type { GatewayContext } from './context.ts';
import type { Reply } from './reply.ts';

/** The caller (anonymous without a token), or undefined once it has been answered 401 for a bad token. */
export function callerOf(reply: Reply, req: HttpRequest, ctx: GatewayContext, format: WireFormat): Principal | undefined {
  const auth = authenticate(req.getHeader('authorization'), ctx.secret);
  if (!auth.ok) return void reply.error(401, 'unauthorized', `invalid token (${auth.reason})`, format);
  return auth.principal;
}

/** The caller, or undefined once answered 401: a bad token, or none at all. */
export function tokenHolderOf(reply: Reply, req: HttpRequest, ctx: GatewayContext, format: WireFormat): Principal | undefined {
  const principal = callerOf(reply, req, ctx, format);
  if (principal?.role === 'anonymous') return void reply.error(401, 'unauthorized', 'a bearer token is required', format);
  return principal;
}

/** A percent-decoded URL part (`raw` as uWS gives it), or undefined once answered 400 naming `what`. */
export function decoded(reply: Reply, raw: string, what: string, format: WireFormat): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return void reply.error(400, 'bad_request', `${what} is not valid percent-encoding`, format);
  }
}
