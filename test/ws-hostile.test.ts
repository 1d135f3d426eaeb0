// /v1/ws against hostile or unauthorised clients: tokens on upgrade, the read matrix per role,
// malformed and oversized frames, garbage floods, rate and subscription limits. The server must
// answer each with the documented error or close code and keep serving everyone else.

import { randomBytes } from 'node:crypto';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { mayRead, signToken, type Principal, type Role } from '../gateway/mod.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { loc, post, recv, upgradeStatus, type WsServer, useWsServers } from './ws-harness.ts';

const { server, client } = useWsServers();

describe('WebSocket upgrade and roles', () => {
  it('refuses bad, expired and unsigned tokens with 401 before upgrading; no token is anonymous', async () => {
    const s = await server();
    const expired = signToken({ role: 'admin', sub: 'a', exp: Math.floor(Date.now() / 1000) - 10 }, TEST_SECRET);
    const forged = signToken({ role: 'admin', sub: 'a' }, 'another-secret');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"a","role":"admin"}').toString('base64url')}.`;
    expect(await upgradeStatus(`${s.wsUrl}?token=${expired}`)).toBe(401);
    expect(await upgradeStatus(`${s.wsUrl}?token=${forged}`)).toBe(401);
    expect(await upgradeStatus(`${s.wsUrl}?token=${unsigned}`)).toBe(401);
    expect(await upgradeStatus(`${s.wsUrl}?token=garbage`)).toBe(401);
    expect(await upgradeStatus(`${s.wsUrl}?format=xml`)).toBe(400);
    expect(await upgradeStatus(s.wsUrl)).toBe(101);
    expect(await upgradeStatus(`${s.wsUrl}?token=${s.token('agent')}`)).toBe(101);
  });

  it('sub over WS follows mayRead for every role; forbidden subs leave the connection open', async () => {
    for (const publicStock of [true, false]) {
      const lookupRequest = (id: string) => (id === 'q1' ? { customer: 'c1', agent: 'ag1' } : undefined);
      const s = await server({ publicStock, lookupRequest });
      const topics = ['stock/A', 'stock/A@S1', 'recs/c1', 'recs/c2', 'kiosk/k1', 'kiosk/k2', 'agent/ag1', 'agent/ag2', 'queue/general', 'alerts/stock', 'alerts/service', 'request/q1', 'request/q2'];
      const principals: Principal[] = [
        { role: 'anonymous', sub: '' },
        { role: 'customer', sub: 'c1' },
        { role: 'kiosk', sub: 'k1', loc: 'S1' },
        { role: 'agent', sub: 'ag1' },
        { role: 'supervisor', sub: 'sv' },
        { role: 'ingest', sub: 'in' },
        { role: 'admin', sub: 'ad' },
      ];
      for (const principal of principals) {
        const token = principal.role === 'anonymous' ? undefined : s.token(principal.role as Role, principal.sub, principal.loc);
        const c = await client(s, { token });
        for (const topic of topics) {
          const answer = await c.sub(topic);
          const expected = mayRead(principal, topic, { publicStock, transport: 'ws', lookupRequest });
          expect(answer.op, `${principal.role} ${topic} (public stock ${publicStock})`).toBe(expected ? 'snapshot' : 'error');
          if (!expected) expect(answer).toMatchObject({ code: 'forbidden', ref: topic });
        }
        expect(c.ws.readyState).toBe(c.ws.OPEN);
      }
      await s.stop();
    }
    // Spot checks that the matrix is not vacuous.
    const s = await server();
    expect((await (await client(s)).sub('stock/A')).op).toBe('snapshot');
    expect((await (await client(s)).sub('alerts/stock')).code).toBe('forbidden');
    expect((await (await client(s, { token: s.token('ingest') })).sub('stock/A')).code).toBe('forbidden');
    expect((await (await client(s, { token: s.token('customer', 'c1') })).sub('recs/c1')).op).toBe('snapshot');
  });
});

describe('WebSocket hostile frames', () => {
  it('answers bad frames with bad_frame and keeps the connection; unknown topics too', async () => {
    const s = await server();
    const c = await client(s);
    const errors = () => c.messages.filter((m) => m.op === 'error');
    c.sendRaw('{"op":"sub",', false); // truncated JSON
    c.sendRaw(pack({ op: 'sub', topic: 'stock/A' }).subarray(0, 8), true); // truncated msgpack
    c.sendRaw(randomBytes(64), true);
    c.sendRaw(Buffer.from([0xc1]), true);
    c.send({ op: 'nope' });
    c.send({ op: 'sub' });
    c.send({ op: 'sub', topic: 'stock/A', since: -1 });
    c.send([1, 2, 3]);
    c.send('just a string');
    c.send({ op: 'sub', topic: 'weather/today' });
    await c.next(() => errors().length >= 10);
    expect(errors().map((e) => e.code)).toEqual(Array(10).fill('bad_frame'));
    expect(await c.sub('stock/A')).toMatchObject({ op: 'snapshot' });
  });

  it('closes a frame over 64 KiB with 1009', async () => {
    const s = await server();
    const c = await client(s);
    c.sendRaw(JSON.stringify({ op: 'ping', id: 'x'.repeat(70 * 1024) }), false);
    expect((await c.closed).code).toBe(1009);
    // Past uWS's hard cap (1 MiB) the connection is cut without a close frame.
    const huge = await client(s);
    huge.sendRaw(Buffer.alloc(2 * 1024 * 1024), true);
    expect((await huge.closed).code).toBe(1006);
    // Just under the limit is fine (and answered bad_frame: the id is too long for an id).
    const ok = await client(s);
    ok.sendRaw(JSON.stringify({ op: 'ping', id: 'x'.repeat(60 * 1024) }), false);
    expect((await ok.next((m) => m.op === 'error')).msg.code).toBe('bad_frame');
  });

  it('a flood of 10,000 garbage frames closes that client with 1008 while another keeps working', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const good = await client(s, { binary: true });
    await good.sub('stock/G');
    const bad = await client(s);
    for (let i = 0; i < 10_000; i++) bad.sendRaw(i % 2 === 0 ? randomBytes(1 + (i % 200)) : `{${i}`, i % 2 === 0);
    for (let i = 1; i <= 20; i++) await post(s.url, ingest, [recv(`g${i}`, 'G', 'S1', 1)]);
    expect((await bad.closed).code).toBe(1008);
    await good.untilSeq('stock/G', 20);
    expect(good.updates('stock/G').map((u) => u.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('rate-limits ops per connection and caps subscriptions', async () => {
    const s = await server({ wsLimits: { opsPerSecond: 5, opsBurst: 20, maxSubscriptions: 3 } });
    const c = await client(s);
    for (let i = 0; i < 40; i++) c.send({ op: 'ping', id: i });
    await c.next((m) => m.op === 'error' && m.code === 'rate_limited');
    await c.next(() => c.messages.length >= 40);
    const pongs = c.messages.filter((m) => m.op === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(30);
    expect(c.ws.readyState).toBe(c.ws.OPEN);

    // A dropped op is named, so a client knows which sub or call to send again.
    const named = await client(s);
    for (let i = 0; i < 30; i++) named.send({ op: 'sub', topic: `stock/R${i}` });
    const { msg: refused } = await named.next((m) => m.op === "error" && m.code === "rate_limited");
    expect(refused.ref).toMatch(/^stock\/R\d+$/);

    const subs = await client(s);
    for (const sku of ['A', 'B', 'C']) expect((await subs.sub(`stock/${sku}`)).op).toBe('snapshot');
    expect(await subs.sub('stock/D')).toMatchObject({ op: 'error', code: 'too_many_subscriptions', ref: 'stock/D' });
    // Re-subscribing to a topic it has is not a new subscription; an unsub frees a place.
    expect((await subs.sub('stock/A')).op).toBe('snapshot');
    subs.send({ op: 'unsub', topic: 'stock/B' });
    expect((await subs.sub('stock/D')).op).toBe('snapshot');
  });
});
