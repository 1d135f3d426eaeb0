// The data-subject export GET /v1/customers/:subject through a real engine and gateway, with real
// tokens: a customer known by a phone and an e-mail address, with a profile, activity in a
// session, two orders (one picked up), a service request with its messages and a kiosk showing it, exported whole by
// either id; who may ask; and two customers merged into one exported with both histories once.

import { describe, expect, it } from 'vitest';
import { loc, post, recv, useWsServers, type WsServer, getAs } from './ws-harness.ts';

const { server } = useWsServers();

const PHONE = 'phone:+4915100000000';
const EMAIL = 'email:ann@example.com';
const line = (sku: string, qty: number) => ({ sku, qty });
const view = (id: string, subject: string, sku: string, ts: number) => ({ id, type: 'activity.viewed', subject, sku, channel: 'web', ts });

async function send(s: WsServer, events: unknown[]) {
  const answers = await post(s.url, s.token('ingest'), events);
  expect(answers.filter((a) => !a.ok)).toEqual([]);
  // The customers domain hears of orders and merges through derived steps, after the answers.
  await s.engine.idle();
}

const byTime = (activity: Array<{ time: number }>) => [...activity].sort((a, b) => a.time - b.time);

const exportOf = (s: WsServer, subject: string, role: 'supervisor' | 'admin' = 'supervisor') =>
  getAs(s, `/v1/customers/${encodeURIComponent(subject)}`, s.token(role));

/** c1 known by PHONE and EMAIL: a vip profile in German, three activities, o1 picked up at S1, o2 placed, request q1 with two messages, shown on kiosk k1. */
async function customer(s: WsServer) {
  await send(s, [
    loc('l1', 'S1'),
    recv('r1', 'A', 'S1', 10),
    recv('r2', 'B', 'S1', 10),
    { id: 'link', type: 'identity.linked', ids: [PHONE, EMAIL], customer: 'c1' },
    { id: 'prof', type: 'customer.profile', customer: EMAIL, tier: 'vip', language: 'de' },
    view('v1', 'c1', 'A', 1_000),
    view('v2', PHONE, 'B', 2_000),
    { id: 'cart', type: 'activity.carted', subject: EMAIL, sku: 'A', channel: 'app', ts: 3_000 },
    { id: 'p1', type: 'order.placed', order: 'o1', customer: PHONE, channel: 'web', pickup: 'S1', lines: [line('A', 1)], ts: 4_000 },
    { id: 'p2', type: 'order.placed', order: 'o2', customer: 'c1', channel: 'app', pickup: 'S1', lines: [line('B', 2)], ts: 5_000 },
  ]);
  await send(s, [
    { id: 'ready', type: 'order.ready', order: 'o1', ts: 6_000 },
    { id: 'sq1', type: 'service.requested', request: 'q1', subject: EMAIL, channel: 'chat', topic: 'returns' },
  ]);
  await send(s, [
    { id: 'pick', type: 'order.picked_up', order: 'o1', ts: 7_000 },
    { id: 'kiosk', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: PHONE },
    { id: 'm1', type: 'service.message', request: 'q1', from: 'customer', text: 'Where is my parcel?', ts: 8_000 },
    { id: 'm2', type: 'service.message', request: 'q1', from: 'agent', text: 'It is at the store.', ts: 9_000 },
  ]);
}

describe('GET /v1/customers/:subject', () => {
  it('exports everything held about the customer, by any of its ids', async () => {
    const s = await server();
    await customer(s);
    const held = await exportOf(s, 'c1');
    expect(held.status).toBe(200);
    const body = held.body;
    expect(body.customer).toBe('c1');
    expect([...body.ids].sort()).toEqual(['c1', EMAIL, PHONE].sort());
    expect(body.profile).toEqual({ tier: 'vip', language: 'de' });
    // One session, its activity in the order it was recorded (activity by a linked id is forwarded to the customer's partition, so it may come later).
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]).toMatchObject({ session: 'c1#1', current: true });
    expect(byTime(body.sessions[0].activity)).toEqual([
      { sku: 'A', kind: 'viewed', time: 1_000 },
      { sku: 'B', kind: 'viewed', time: 2_000 },
      { sku: 'A', kind: 'carted', time: 3_000 },
    ]);
    const orders = [...body.orders].sort((a: any, b: any) => (a.order < b.order ? -1 : 1));
    expect(orders.map((o: any) => [o.order, o.status])).toEqual([
      ['o1', 'completed'],
      ['o2', 'placed'],
    ]);
    // Each order in full, as GET /v1/orders/:order shows it.
    expect(orders[0]).toEqual((await getAs(s, '/v1/orders/o1', s.token('admin'))).body);
    expect(orders[0]).toMatchObject({ customer: PHONE, channel: 'web', pickup: 'S1', lines: [{ sku: 'A', qty: 1, returned: 0 }] });
    expect(orders[0].history.map((h: any) => h.status)).toEqual(['placed', 'ready', 'completed']);
    expect(orders[1]).toMatchObject({ customer: 'c1', channel: 'app', lines: [{ sku: 'B', qty: 2, returned: 0 }] });
    expect(body.requests).toEqual([
      expect.objectContaining({
        request: 'q1',
        subject: EMAIL,
        channel: 'chat',
        topic: 'returns',
        status: 'queued',
        messages: [
          { from: 'customer', text: 'Where is my parcel?', at: 8_000 },
          { from: 'agent', text: 'It is at the store.', at: 9_000 },
        ],
      }),
    ]);
    expect(body.kiosks).toEqual([{ kiosk: 'k1', customer: 'c1', location: 'S1', items: expect.any(Array), at: expect.any(Number) }]);
    expect(body.identityLog.map((e: any) => e.kind)).toContain('created');

    for (const id of [PHONE, EMAIL]) expect(await exportOf(s, id), id).toEqual(held);
    expect(await exportOf(s, EMAIL, 'admin')).toEqual(held);

    // The kiosk moves on to another shopper: it no longer shows c1.
    await send(s, [
      { id: 'link9', type: 'identity.linked', ids: ['phone:+9'], customer: 'c9' },
      { id: 'kiosk2', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'c9' },
    ]);
    expect((await exportOf(s, 'c1')).body.kiosks).toEqual([]);
    expect((await exportOf(s, 'c9')).body.kiosks).toMatchObject([{ kiosk: 'k1', customer: 'c9' }]);
  });

  it('is for supervisors and admins: others get 403 whether or not the subject exists, no token 401, an unknown subject 404', async () => {
    const s = await server();
    await customer(s);
    const tokens = [s.token('customer', 'c1'), s.token('customer', PHONE), s.token('agent', 'a1'), s.token('ingest'), s.token('associate', 'staff-1', 'S1'), s.token('kiosk', 'k1', 'S1')];
    for (const token of tokens) {
      for (const subject of ['c1', 'nobody']) {
        expect(await getAs(s, `/v1/customers/${subject}`, token)).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      }
    }
    expect((await getAs(s, '/v1/customers/c1')).status).toBe(401);
    for (const role of ['supervisor', 'admin'] as const) {
      expect((await exportOf(s, 'c1', role)).status).toBe(200);
      expect(await exportOf(s, 'nobody', role)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
    expect((await getAs(s, '/v1/customers/%E0%A4%A', s.token('admin'))).status).toBe(400);
  });

  it('exports two merged customers as one, each history once', async () => {
    const s = await server();
    await send(s, [
      loc('l1', 'S1'),
      recv('r1', 'A', 'S1', 10),
      { id: 'k2', type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' },
      { id: 'k3', type: 'identity.linked', ids: ['email:c3@example.com'], customer: 'c3' },
      // c3: an old session, then one still open when the two merge; c2: one open session.
      view('a3', 'c3', 'X', 1_000),
      view('b3', 'c3', 'Y', 5_000_000),
      view('c2', 'c2', 'Z', 5_100_000),
      { id: 'p2', type: 'order.placed', order: 'o2', customer: 'c2', channel: 'web', pickup: 'S1', lines: [line('A', 1)], ts: 5_100_000 },
      { id: 'p3', type: 'order.placed', order: 'o3', customer: 'c3', channel: 'app', pickup: 'S1', lines: [line('A', 2)], ts: 5_000_000 },
      { id: 's2', type: 'service.requested', request: 'q2', subject: 'c2', channel: 'chat', topic: 'billing' },
      { id: 's3', type: 'service.requested', request: 'q3', subject: 'email:c3@example.com', channel: 'email', topic: 'billing' },
    ]);
    await send(s, [{ id: 'm3', type: 'service.message', request: 'q3', from: 'customer', text: 'Refund please', ts: 5_200_000 }]);
    await send(s, [{ id: 'merge', type: 'identity.linked', ids: ['phone:+2', 'email:c3@example.com'] }]);

    const held = await exportOf(s, 'c3');
    expect(held.status).toBe(200);
    const body = held.body;
    expect(body.customer).toBe('c2');
    expect([...body.ids].sort()).toEqual(['c2', 'c3', 'email:c3@example.com', 'phone:+2']);
    const activity = body.sessions.flatMap((x: any) => x.activity.map((a: any) => `${a.sku}@${a.time}`)).sort();
    expect(activity).toEqual(['X@1000', 'Y@5000000', 'Z@5100000']);
    expect(body.sessions.filter((x: any) => x.current)).toHaveLength(1);
    expect(body.orders.map((o: any) => [o.order, o.status]).sort()).toEqual([
      ['o2', 'placed'],
      ['o3', 'placed'],
    ]);
    expect(body.requests.map((r: any) => [r.request, r.messages.map((m: any) => m.text)])).toEqual([
      ['q2', []],
      ['q3', ['Refund please']],
    ]);
    for (const id of ['c2', 'phone:+2', 'email:c3@example.com']) expect(await exportOf(s, id), id).toEqual(held);
  });
});
