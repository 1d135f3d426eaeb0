// Fan-out under load: many subscribers get gap-free streams while updates are posted; a client
// that stops reading is conflated on a state topic (others unaffected) and closed with 4008 on
// an event topic, from which it resumes with `since` without losing a message.

import { describe, expect, it } from 'vitest';
import { assertGapFree, loc, post, recv, sold, WsClient, type WsServer, useWsServers } from './ws-harness.ts';

const ws = useWsServers();
const server = () => ws.server();
const client = (s: WsServer, token?: string) => ws.client(s, { token });

async function metric(s: WsServer, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const match = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Stops reading from the socket: the server's sends pile up in kernel buffers, then in uWS. */
function pause(c: WsClient): void {
  (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}
function resume(c: WsClient): void {
  (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
}

describe('WebSocket fan-out', () => {
  it('200 clients subscribing while updates are posted each get a gap-free stream after their snapshot', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    // Nobody watches the topic before: the first subscribers arrive while batches are in flight.
    const UPDATES = 150;
    const posting = (async () => {
      for (let i = 1; i <= UPDATES; i++) await post(s.url, ingest, [recv(`u${i}`, 'HOT', 'S1', 1)]);
    })();
    const clients = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const c = await client(s);
        await c.sub('stock/HOT');
        return c;
      }),
    );
    await posting;
    const last = s.engine.lastSeq('stock/HOT');
    expect(last).toBe(UPDATES);
    for (const c of clients) {
      await c.untilSeq('stock/HOT', last);
      expect(assertGapFree(c, 'stock/HOT').last).toBe(last);
    }
    expect(await metric(s, 'omni_ws_subscriptions')).toBe(200);
  });

  it('a client that stops reading a hot state topic is conflated; 50 others get every update', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    // 400 locations make every update of stock/BIG a ~25 kB message, so kernel buffers fill fast.
    const LOCS = 400;
    const places = Array.from({ length: LOCS }, (_, i) => `L${i}`);
    await post(s.url, ingest, places.map((p) => loc(`loc-${p}`, p)));
    await post(s.url, ingest, places.map((p) => recv(`init-${p}`, 'BIG', p, 1)));

    const slow = await client(s);
    await slow.sub('stock/BIG');
    const others = await Promise.all(Array.from({ length: 50 }, () => client(s)));
    for (const c of others) await c.sub('stock/BIG');
    pause(slow);

    let n = 0;
    while ((await metric(s, 'omni_ws_conflations_total')) === 0) {
      for (let k = 0; k < 50; k++, n++) await post(s.url, ingest, [recv(`hot-${n}`, 'BIG', places[n % LOCS], 1)]);
      if (n > 20_000) throw new Error('no conflation after 20,000 updates');
    }
    const last = s.engine.lastSeq('stock/BIG');
    for (const c of others) {
      await c.untilSeq('stock/BIG', last);
      expect(assertGapFree(c, 'stock/BIG').last).toBe(last);
    }

    resume(slow);
    await slow.untilSeq('stock/BIG', last);
    const seqs = slow.updates('stock/BIG').map((u) => u.seq);
    // Strictly rising, ending at the latest state, with at least one jump where updates were conflated.
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1])).toBe(true);
    expect(seqs.at(-1)).toBe(last);
    expect(seqs.length).toBeLessThan(last - 1);
    expect(slow.updates('stock/BIG').at(-1)!.data.onHand).toBe(LOCS + n);
    expect(slow.ws.readyState).toBe(slow.ws.OPEN);
  });

  it('a client that stops reading an event topic is closed with 4008, others get every alert, and it resumes with since losing nothing', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    await post(s.url, ingest, [loc('l1', 'S1')]);
    const supervisor = s.token('supervisor');
    const slow = await client(s, supervisor);
    await slow.sub('alerts/stock');
    const reader = await client(s, supervisor);
    await reader.sub('alerts/stock');
    pause(slow);

    // Every counter sale below zero raises a discrepancy alert on alerts/stock.
    let n = 0;
    while ((await metric(s, 'omni_ws_slow_closes_total')) === 0) {
      await post(s.url, ingest, Array.from({ length: 5_000 }, () => sold(`sale-${n++}`, 'X', 'S1', 1)));
      if (n > 500_000) throw new Error('no slow-consumer close after 500,000 alerts');
    }
    // A discrepancy per sale and one low_stock as the row first fell: published a commit after
    // each sale's answer (at the alerts' own partition), so awaited as the reader receives them.
    const last = n + 1;
    await reader.untilSeq('alerts/stock', last);
    expect(s.engine.lastSeq('alerts/stock')).toBe(last);
    expect(assertGapFree(reader, 'alerts/stock').last).toBe(last);

    resume(slow);
    expect((await slow.closed).code).toBe(4008);
    // What it did get before the close was in order and without holes.
    const got = assertGapFree(slow, 'alerts/stock').last;
    expect(got).toBeLessThan(last);
    expect(reader.ws.readyState).toBe(reader.ws.OPEN);

    // Event-topic history covers more than the 4008 bound: the resume replays exactly what the
    // close cost it (thousands of alerts), as updates, and the replay does not trip 4008 again.
    const resumed = await client(s, supervisor);
    resumed.send({ op: 'sub', topic: 'alerts/stock', since: got, epoch: s.engine.epoch });
    await resumed.untilSeq('alerts/stock', last);
    expect(resumed.messages.every((m) => m.op === 'update')).toBe(true);
    expect(resumed.messages.map((m) => m.seq)).toEqual(Array.from({ length: last - got }, (_, i) => got + 1 + i));
    expect(last - got).toBeGreaterThan(1000);
    expect(resumed.ws.readyState).toBe(resumed.ws.OPEN);
  });
});
