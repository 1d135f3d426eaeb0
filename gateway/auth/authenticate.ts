// From an Authorization header to a principal. No header means anonymous; what anonymous may
// do is the route's decision, but a header that is present and wrong is always refused.

import { verifyToken, type TokenFailure, type VerifyOptions } from './jwt.ts';
import { ANONYMOUS, type Principal } from './principal.ts';

export type AuthResult =
  /** `expiresAtMs`: the token's `exp`, for transports that outlive a request (a WebSocket is closed then). */
  | { ok: true; principal: Principal; expiresAtMs?: number }
  | { ok: false; reason: TokenFailure | 'bad_scheme' };

// RFC 6750 §2.1: the scheme is case-insensitive; the token is one base64url-ish word.
const BEARER = /^Bearer +([^\s]+) *$/i;

export function authenticate(authorization: string | undefined, secret: string, options?: VerifyOptions): AuthResult {
  if (authorization === undefined || authorization === '') return { ok: true, principal: ANONYMOUS };
  const match = BEARER.exec(authorization);
  if (match === null) return { ok: false, reason: 'bad_scheme' };
  return authenticateToken(match[1], secret, options);
}

/** For transports that carry the bare token (WebSocket `?token=`). */
export function authenticateToken(token: string, secret: string, options?: VerifyOptions): AuthResult {
  const verified = verifyToken(token, secret, options);
  if (!verified.ok) return verified;
  const { sub, role, loc, exp } = verified.claims;
  const principal: Principal = loc === undefined ? { role, sub } : { role, sub, loc };
  return exp === undefined ? { ok: true, principal } : { ok: true, principal, expiresAtMs: exp * 1000 };
}
