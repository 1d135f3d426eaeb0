// End to end, over the gateway: a kiosk identifies a shopper over its WebSocket, and the
// associates of that store, subscribed to `store/<their store>`, get the shopper's context with
// contact ids masked and the order waiting for them there; another store's associates get only
// their own kiosks' shoppers, and may not read this store's topic.

import { describe, expect, it } from 'vitest';
import { post, useWsServers, type Msg, type WsClient } from './ws-harness.ts';

const PHONE = 'phone:+4915112345600';
const { server, client } = useWsServers();

const shoppers = (c: WsClient, topic: string) => c.messages.filter((m) => m.op === 'update' && m.topic === topic && m.data?.type === 'shopper');

async function identify(kiosk: WsClient, id: string, event: Record<string, unknown>): Promise<Msg> {
  const from = kiosk.messages.length;
  kiosk.send({ op: 'event', event: { id, type: 'kiosk.identified', ...event } });
  return (await kiosk.next((m) => m.op === 'result' && m.ref === id, from)).msg;
}

describe('store/<location> tells associates who a kiosk identified', () => {
  it('the store of the kiosk gets the masked context with the order waiting there; another store nothing of it', async () => {
    const s = await server();
    const ingest = s.token('ingest');
    const setup = await post(s.url, ingest, [
      { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 52.5, lon: 13.4 },
      { id: 'l2', type: 'location.upserted', location: 'S2', kind: 'store', lat: 48.1, lon: 11.6 },
      { id: 'r1', type: 'stock.received', sku: 'A', location: 'S1', qty: 5 },
      { id: 'r2', type: 'stock.received', sku: 'B', location: 'S2', qty: 5 },
      { id: 'i1', type: 'identity.linked', customer: 'c1', ids: [PHONE, 'email:anna@bhf.co'] },
      { id: 'p1', type: 'customer.profile', customer: 'c1', tier: 'vip' },
      { id: 'v1', type: 'activity.viewed', subject: 'device:x', sku: 'A', channel: 'web' },
      { id: 'v2', type: 'activity.viewed', subject: 'device:x', sku: 'B', channel: 'web' },
    ]);
    expect(setup.filter((r) => !r.ok)).toEqual([]);
    expect((await post(s.url, ingest, [{ id: 'o1', type: 'order.placed', order: 'o1', customer: 'c1', pickup: 'S1', channel: 'app', lines: [{ sku: 'A', qty: 2 }] }]))[0].ok).toBe(true);
    expect((await post(s.url, ingest, [{ id: 'o1-ready', type: 'order.ready', order: 'o1' }]))[0]).toMatchObject({ ok: true, status: 'ready' });

    const atS1 = await client(s, { token: s.token('associate', 'staff-1', 'S1') });
    const atS2 = await client(s, { token: s.token('associate', 'staff-2', 'S2') });
    expect(await atS1.sub('store/S1')).toMatchObject({ op: 'snapshot', topic: 'store/S1' });
    expect(await atS2.sub('store/S2')).toMatchObject({ op: 'snapshot', topic: 'store/S2' });
    expect(await atS2.sub('store/S1')).toMatchObject({ op: 'error', code: 'forbidden' });

    const kiosk1 = await client(s, { token: s.token('kiosk', 'k1', 'S1') });
    const answer = await identify(kiosk1, 'id-1', { kiosk: 'k1', location: 'S1', subject: PHONE });
    expect(answer).toMatchObject({ ok: true, customer: 'c1' });

    const notice = (await atS1.next((m) => m.op === 'update' && m.topic === 'store/S1' && m.data?.type === 'shopper')).msg.data;
    expect(notice).toEqual({
      type: 'shopper',
      kiosk: 'k1',
      customer: {
        customer: 'c1',
        ids: ['c1', 'phone:+49151******00', 'email:a***@b.c'],
        tier: 'vip',
        pickups: [{ order: 'o1', status: 'ready', lines: [{ sku: 'A', qty: 2 }] }],
        recommendations: answer.items,
      },
    });

    // A kiosk at S2: its associates get that shopper, and never the one before (same topic, in order).
    const kiosk2 = await client(s, { token: s.token('kiosk', 'k2', 'S2') });
    expect(await identify(kiosk2, 'id-2', { kiosk: 'k2', location: 'S2', subject: 'email:anna@bhf.co' })).toMatchObject({ ok: true });
    const there = (await atS2.next((m) => m.op === 'update' && m.topic === 'store/S2' && m.data?.type === 'shopper')).msg.data;
    expect(there).toMatchObject({ kiosk: 'k2', customer: { customer: 'c1', pickups: [] } });
    expect(shoppers(atS2, 'store/S2')).toHaveLength(1);
    expect(shoppers(atS1, 'store/S1')).toHaveLength(1);
    for (const c of [atS1, atS2]) expect(JSON.stringify(c.messages)).not.toMatch(/4915112345600|anna|bhf/);
  });
});
