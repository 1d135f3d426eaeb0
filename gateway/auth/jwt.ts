// HS256 JSON Web Tokens (RFC 7519) with node:crypto only. Any JWT library can mint
// tokens for us, so this follows the standard encoding exactly and accepts nothing looser.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { TOKEN_ROLES, type Role } from './principal.ts';

export interface TokenClaims {
  sub: string;
  role: Role;
  loc?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

export type TokenFailure = 'malformed' | 'unsupported_alg' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'invalid_claims';

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: TokenFailure };

export interface VerifyOptions {
  /** Current time in ms; injectable so expiry can be tested without waiting. */
  nowMs?: number;
  /** Seconds of clock skew tolerated on exp/nbf between the minting host and us. */
  clockToleranceS?: number;
}

// Buffer's base64url decoder silently skips characters outside the alphabet, which would let
// different strings decode to the same signature; only the canonical alphabet is accepted.
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const HEADER = encodeSegment({ alg: 'HS256', typ: 'JWT' });

export function signToken(claims: TokenClaims, secret: string): string {
  assertUsableSecret(secret);
  const body: Record<string, unknown> = { sub: claims.sub, role: claims.role };
  if (claims.loc !== undefined) body.loc = claims.loc;
  if (claims.exp !== undefined) body.exp = claims.exp;
  const signingInput = `${HEADER}.${encodeSegment(body)}`;
  return `${signingInput}.${hmac(signingInput, secret).toString('base64url')}`;
}

export function verifyToken(token: string, secret: string, options: VerifyOptions = {}): VerifyResult {
  assertUsableSecret(secret);
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return fail('malformed');
  const [headerPart, payloadPart, signaturePart] = parts;

  const header = decodeSegment(headerPart);
  if (header === undefined) return fail('malformed');
  // Checked before the signature so alg=none and asymmetric algorithms never reach the HMAC.
  if (header.alg !== 'HS256') return fail('unsupported_alg');

  const signature = Buffer.from(signaturePart, 'base64url');
  if (signature.toString('base64url') !== signaturePart) return fail('malformed');
  const expected = hmac(`${headerPart}.${payloadPart}`, secret);
  // The length of an HS256 signature is public, so comparing it first leaks nothing.
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return fail('bad_signature');

  const payload = decodeSegment(payloadPart);
  if (payload === undefined) return fail('malformed');
  const claims = readClaims(payload);
  if (claims === undefined) return fail('invalid_claims');

  const nowS = (options.nowMs ?? Date.now()) / 1000;
  const tolerance = options.clockToleranceS ?? 0;
  if (claims.exp !== undefined && nowS >= claims.exp + tolerance) return fail('expired');
  const nbf = payload.nbf;
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) return fail('invalid_claims');
    if (nowS < nbf - tolerance) return fail('not_yet_valid');
  }
  return { ok: true, claims };
}

function readClaims(payload: Record<string, unknown>): TokenClaims | undefined {
  const { sub, role, loc, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0) return undefined;
  if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role)) return undefined;
  if (loc !== undefined && (typeof loc !== 'string' || loc.length === 0)) return undefined;
  if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) return undefined;
  const claims: TokenClaims = { sub, role: role as Role };
  if (loc !== undefined) claims.loc = loc;
  if (exp !== undefined) claims.exp = exp;
  return claims;
}

function hmac(signingInput: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function fail(reason: TokenFailure): VerifyResult {
  return { ok: false, reason };
}

function assertUsableSecret(secret: string): void {
  // An empty HMAC key would make every token forgeable; this is a programming error, not input.
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('JWT secret must be a non-empty string');
}
