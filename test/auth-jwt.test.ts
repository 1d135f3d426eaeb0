import { createHmac } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { authenticate, signToken, verifyToken } from '../gateway/mod.ts';

const SECRET = 'a-test-secret-that-is-long-enough';
const key = new TextEncoder().encode(SECRET);
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('HS256 tokens', () => {
  it('round-trips its own tokens', () => {
    const token = signToken({ sub: 'k1', role: 'kiosk', loc: 'S1', exp: NOW_S + 60 }, SECRET);
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS })).toEqual({
      ok: true,
      claims: { sub: 'k1', role: 'kiosk', loc: 'S1', exp: NOW_S + 60 },
    });
  });

  it('accepts a token minted by jose', async () => {
    const token = await new SignJWT({ role: 'agent' }).setProtectedHeader({ alg: 'HS256' }).setSubject('a7').setExpirationTime(NOW_S + 300).sign(key);
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS })).toEqual({ ok: true, claims: { sub: 'a7', role: 'agent', exp: NOW_S + 300 } });
  });

  it('accepts jose tokens with extra registered claims (iat, nbf, iss)', async () => {
    const token = await new SignJWT({ role: 'customer' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('c1')
      .setIssuedAt(NOW_S - 10)
      .setNotBefore(NOW_S - 5)
      .setIssuer('someone')
      .sign(key);
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS })).toEqual({ ok: true, claims: { sub: 'c1', role: 'customer' } });
  });

  it('mints tokens jose verifies', async () => {
    const token = signToken({ sub: 'c9', role: 'customer', exp: Math.floor(Date.now() / 1000) + 60 }, SECRET);
    const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'c9', role: 'customer' });
  });

  it('refuses an expired token, at the exact second of exp too', () => {
    const token = signToken({ sub: 'c1', role: 'customer', exp: NOW_S }, SECRET);
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS - 1000 }).ok).toBe(true);
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS, clockToleranceS: 5 }).ok).toBe(true);
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    const token = await new SignJWT({ role: 'agent' }).setProtectedHeader({ alg: 'HS256' }).setSubject('a1').setNotBefore(NOW_S + 60).sign(key);
    expect(verifyToken(token, SECRET, { nowMs: NOW_MS })).toEqual({ ok: false, reason: 'not_yet_valid' });
  });

  it('refuses a token signed with another secret', () => {
    const token = signToken({ sub: 'c1', role: 'customer' }, 'another-secret');
    expect(verifyToken(token, SECRET)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a tampered payload', () => {
    const token = signToken({ sub: 'c1', role: 'customer' }, SECRET);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64({ sub: 'c1', role: 'admin' })}.${signature}`;
    expect(verifyToken(forged, SECRET)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a tampered or non-canonical signature', () => {
    const token = signToken({ sub: 'c1', role: 'customer' }, SECRET);
    const last = token.at(-1)!;
    const flipped = token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
    expect(verifyToken(flipped, SECRET).ok).toBe(false);
    // Padding or stray characters must not decode to the same bytes and pass.
    expect(verifyToken(`${token}=`, SECRET)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyToken(`${token}.`, SECRET)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyToken(token.slice(0, -2), SECRET).ok).toBe(false);
  });

  it('refuses alg=none and other algorithms', () => {
    const payload = b64({ sub: 'c1', role: 'admin' });
    expect(verifyToken(`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, SECRET)).toEqual({ ok: false, reason: 'unsupported_alg' });
    expect(verifyToken(`${b64({ alg: 'HS512' })}.${payload}.abc`, SECRET)).toEqual({ ok: false, reason: 'unsupported_alg' });
    expect(verifyToken(`${b64({ alg: 'RS256' })}.${payload}.abc`, SECRET)).toEqual({ ok: false, reason: 'unsupported_alg' });
  });

  it('refuses garbage', () => {
    for (const garbage of ['', 'abc', 'a.b', 'a.b.c.d', '!!!.@@@.###', `${b64('x')}.${b64({})}.sig`, 'eyJ.eyJ.eyJ']) {
      expect(verifyToken(garbage, SECRET).ok, garbage).toBe(false);
    }
  });

  it('refuses signed tokens with missing or unknown claims', () => {
    const cases: Array<Record<string, unknown>> = [
      { role: 'customer' },
      { sub: '', role: 'customer' },
      { sub: 'c1' },
      { sub: 'c1', role: 'root' },
      { sub: 'c1', role: 'anonymous' },
      { sub: 'c1', role: 'kiosk', loc: 7 },
      { sub: 'c1', role: 'customer', exp: 'tomorrow' },
      { sub: 42, role: 'customer' },
    ];
    for (const payload of cases) {
      const token = signRaw(payload);
      expect(verifyToken(token, SECRET, { nowMs: NOW_MS }), JSON.stringify(payload)).toEqual({ ok: false, reason: 'invalid_claims' });
    }
  });
});

describe('authenticate (Authorization header)', () => {
  const token = signToken({ sub: 'k1', role: 'kiosk', loc: 'S1' }, SECRET);

  it('treats a missing header as anonymous', () => {
    expect(authenticate(undefined, SECRET)).toEqual({ ok: true, principal: { role: 'anonymous', sub: '' } });
    expect(authenticate('', SECRET)).toEqual({ ok: true, principal: { role: 'anonymous', sub: '' } });
  });

  it('reads a bearer token, case-insensitively', () => {
    expect(authenticate(`Bearer ${token}`, SECRET)).toEqual({ ok: true, principal: { role: 'kiosk', sub: 'k1', loc: 'S1' } });
    expect(authenticate(`bearer ${token}`, SECRET).ok).toBe(true);
  });

  it('refuses other schemes and bad tokens', () => {
    expect(authenticate(`Basic ${token}`, SECRET)).toEqual({ ok: false, reason: 'bad_scheme' });
    expect(authenticate('Bearer', SECRET)).toEqual({ ok: false, reason: 'bad_scheme' });
    expect(authenticate('Bearer nope', SECRET)).toEqual({ ok: false, reason: 'malformed' });
  });
});

/** Signs an arbitrary payload as any HS256 library would, bypassing signToken's claim shape. */
function signRaw(payload: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}
