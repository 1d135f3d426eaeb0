// How long a WebSocket lives: closed with 4001 when its token expires, and by uWS's idle
// timeout when it goes silent (not answering pings, sending nothing) — real time, no fakes.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { signToken, startGateway } from '../gateway/mod.ts';
import { SWEEP_MS, TokenExpiries } from '../gateway/ws/token-expiry.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { loc, post, recv, useWsServers } from './ws-harness.ts';

const { server, client } = useWsServers();

describe('token expiry', () => {
  it('closes a connection with 4001 once its token expires; one without exp keeps receiving', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const exp = Math.ceil((Date.now() + 3000) / 1000);
    const expiring = await client(s, { token: signToken({ role: 'supervisor', sub: 'sv', exp }, TEST_SECRET) });
    const lasting = await client(s, { token: s.token('supervisor') });
    for (const c of [expiring, lasting]) await c.sub('stock/T');
    await post(s.url, ingest, [recv('t1', 'T', 'S1', 1)]);
    // Valid until then: it receives like anyone.
    await expiring.untilSeq('stock/T', 1);

    expect(await expiring.closed).toEqual({ code: 4001, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    await post(s.url, ingest, [recv('t2', 'T', 'S1', 1)]);
    await lasting.untilSeq('stock/T', 2);
    expect(expiring.updates('stock/T').map((u) => u.seq)).toEqual([1]);
    expect(lasting.ws.readyState).toBe(lasting.ws.OPEN);
  });

  describe('TokenExpiries', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('expires a past token at once, a future one within a sweep after its time, and forgets a deleted one', () => {
      vi.useFakeTimers({ now: 0 });
      const DAY = 86_400_000;
      const fired: string[] = [];
      const conn = (name: string) => ({ expire: () => void fired.push(name) });
      const expiries = new TokenExpiries();
      const far = conn('far');
      const soon = conn('soon');
      const gone = conn('gone');
      expiries.add(far, 40 * DAY);
      expiries.add(soon, 1500);
      expiries.add(gone, 1200);
      expiries.add(conn('past'), -1);
      expect(fired).toEqual(['past']);
      expiries.delete(gone);
      vi.advanceTimersByTime(1000);
      expect(fired).toEqual(['past']);
      vi.advanceTimersByTime(SWEEP_MS);
      expect(fired).toEqual(['past', 'soon']);
      vi.advanceTimersByTime(39 * DAY);
      expect(fired).toEqual(['past', 'soon']);
      vi.advanceTimersByTime(DAY);
      expect(fired).toEqual(['past', 'soon', 'far']);
      // Nothing left to expire: no timer keeps running.
      expect(expiries.size).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('copes with a connection that deletes itself while it expires, as the close handler does', () => {
      vi.useFakeTimers({ now: 0 });
      const expiries = new TokenExpiries();
      const fired: string[] = [];
      const closing = (name: string) => {
        const conn = { expire: () => (fired.push(name), expiries.delete(conn)) };
        return conn;
      };
      expiries.add(closing('a'), 500);
      expiries.add(closing('b'), 600);
      const later = closing('later');
      expiries.add(later, 5000);
      vi.advanceTimersByTime(SWEEP_MS);
      expect(fired).toEqual(['a', 'b']);
      expect(expiries.size).toBe(1);
      vi.advanceTimersByTime(5 * SWEEP_MS);
      expect(fired).toEqual(['a', 'b', 'later']);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});

describe('idle timeout', () => {
  it('refuses idle timeouts uWS would abort the process on', async () => {
    const s = await server();
    for (const idleTimeoutS of [4, 7, 961, 8.5]) {
      await expect(startGateway({ engine: s.engine, secret: TEST_SECRET, port: 0, wsLimits: { idleTimeoutS } })).rejects.toThrow(/idleTimeoutS/);
    }
  });

  it('closes a client that neither sends nor answers pings; one that pings, or answers pings, stays', async () => {
    // 8 s is uWS's shortest: it pings a connection silent for 4 s, closes it 4 s later.
    const s = await server({ wsLimits: { idleTimeoutS: 8 } });
    const opened = Date.now();
    const silent = await client(s, { autoPong: false });
    const pinging = await client(s, { autoPong: false });
    const ponging = await client(s);
    // Two pings answered means the pong kept it open past a whole timeout.
    const twoPings = new Promise<void>((resolve, reject) => {
      let pings = 0;
      ponging.ws.on('ping', () => ++pings === 2 && resolve());
      void ponging.closed.then(({ code }) => reject(new Error(`the ponging client was closed (${code})`)));
    });
    const every = setInterval(() => pinging.send({ op: 'ping' }), 1_000);
    try {
      // Closed by the timeout, without a close frame (1006). uWS's timers tick every 4 s, so
      // that is 4–8 s after it went silent: a ping on one tick, the close a tick later.
      expect((await silent.closed).code).toBe(1006);
      expect(Date.now() - opened).toBeGreaterThanOrEqual(3_000);
      await twoPings;
      expect(pinging.ws.readyState).toBe(pinging.ws.OPEN);
      expect(ponging.ws.readyState).toBe(ponging.ws.OPEN);
      // Its pings reached the server (answered) and kept it open through the ticks that closed
      // the silent client, which opened at the same moment.
      expect(pinging.messages.filter((m) => m.op === 'pong').length).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(every);
    }
  }, 90_000);
});
