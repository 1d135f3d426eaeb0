// The order routes and topics through a real engine and gateway, with real tokens:
// GET /v1/orders/:order and GET /v1/customers/:subject/orders for the order's customer (by any
// linked id), another customer, the associates of the pickup store and of another store, and
// the read-everything roles; WebSocket subscriptions to order/<id> and store/<loc>; and the
// order events an associate and a customer may send.

import { describe, expect, it } from 'vitest';
import { loc, post, recv, useWsServers, type WsServer, getAs } from './ws-harness.ts';

const { server, client } = useWsServers();

const line = (sku: string, qty: number) => ({ sku, qty });

/** Two stores and a warehouse with stock; c1 is also known by its phone; o1 is c1's pickup at S1, o2 c2's at S2. */
async function shop(s: WsServer) {
  const ingest = s.token('ingest');
  const answers = await post(s.url, ingest, [
    loc('l1', 'S1'),
    loc('l2', 'S2'),
    recv('r1', 'A', 'S1', 5),
    recv('r2', 'A', 'S2', 5),
    { id: 'link', type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' },
    { id: 'p1', type: 'order.placed', order: 'o1', customer: 'phone:+1', channel: 'web', pickup: 'S1', lines: [line('A', 1)], ts: 1_000 },
    { id: 'p2', type: 'order.placed', order: 'o2', customer: 'c2', channel: 'app', pickup: 'S2', lines: [line('A', 2)], ts: 2_000 },
  ]);
  expect(answers.filter((a) => !a.ok)).toEqual([]);
  // The customers domain learns of the orders from the stock domain's news, after the answers.
  await s.engine.idle();
}

describe('GET /v1/orders/:order', () => {
  it('answers the order to its customer by any linked id and to the associates of its store; others get 403 whether or not it exists', async () => {
    const s = await server();
    await shop(s);
    const own = await getAs(s, '/v1/orders/o1', s.token('customer', 'c1'));
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ order: 'o1', status: 'placed', customer: 'phone:+1', channel: 'web', pickup: 'S1', lines: [{ sku: 'A', qty: 1, returned: 0 }], returns: [] });
    expect(own.body.allocation).toEqual([expect.objectContaining({ sku: 'A', qty: 1, location: 'S1' })]);
    expect(await getAs(s, '/v1/orders/o1', s.token('customer', 'phone:+1'))).toEqual(own);

    expect((await getAs(s, '/v1/orders/o1', s.token('customer', 'c2'))).status).toBe(403);
    expect(await getAs(s, '/v1/orders/none', s.token('customer', 'c2'))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await getAs(s, '/v1/orders/o2', s.token('customer', 'c2'))).toMatchObject({ status: 200, body: { order: 'o2', customer: 'c2' } });

    expect(await getAs(s, '/v1/orders/o1', s.token('associate', 'staff-1', 'S1'))).toEqual(own);
    expect((await getAs(s, '/v1/orders/o1', s.token('associate', 'staff-2', 'S2'))).status).toBe(403);
    expect((await getAs(s, '/v1/orders/o2', s.token('associate', 'staff-2', 'S2'))).status).toBe(200);
    // An associate token without its store reads no order.
    expect((await getAs(s, '/v1/orders/o1', s.token('associate', 'staff-1'))).status).toBe(403);
    expect((await getAs(s, '/v1/orders/none', s.token('associate', 'staff-1', 'S1'))).status).toBe(403);
    expect((await getAs(s, '/v1/orders/o1', s.token('kiosk', 'k1', 'S1'))).status).toBe(403);
    expect((await getAs(s, '/v1/orders/o1', s.token('agent', 'a1'))).status).toBe(403);

    for (const role of ['supervisor', 'ingest', 'admin'] as const) {
      expect(await getAs(s, '/v1/orders/o1', s.token(role))).toEqual(own);
      expect(await getAs(s, '/v1/orders/none', s.token(role))).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
    expect((await getAs(s, '/v1/orders/o1')).status).toBe(401);
    expect((await getAs(s, '/v1/orders/%E0%A4%A', s.token('admin'))).status).toBe(400);
  });
});

describe('GET /v1/customers/:subject/orders', () => {
  it("lists the customer's orders newest first, to itself by any linked id and to the read-everything roles", async () => {
    const s = await server();
    await shop(s);
    await post(s.url, s.token('ingest'), [{ id: 'p3', type: 'order.placed', order: 'o3', customer: 'c1', channel: 'app', pickup: 'S2', lines: [line('A', 1)], ts: 3_000 }]);
    await s.engine.idle();

    const mine = await getAs(s, '/v1/customers/c1/orders', s.token('customer', 'c1'));
    expect(mine.status).toBe(200);
    expect(mine.body.customer).toBe('c1');
    expect(mine.body.orders.map((o: { order: string }) => o.order)).toEqual(['o3', 'o1']);
    expect(mine.body.orders[1]).toEqual((await getAs(s, '/v1/orders/o1', s.token('admin'))).body);
    expect(await getAs(s, '/v1/customers/phone%3A%2B1/orders', s.token('customer', 'c1'))).toEqual(mine);
    expect(await getAs(s, '/v1/customers/c1/orders', s.token('customer', 'phone:+1'))).toEqual(mine);
    expect(await getAs(s, '/v1/customers/c1/orders', s.token('supervisor'))).toEqual(mine);
    expect(await getAs(s, '/v1/customers/c1/orders', s.token('ingest'))).toEqual(mine);

    const newest = await getAs(s, '/v1/customers/c1/orders?limit=1', s.token('admin'));
    expect(newest.body.orders.map((o: { order: string }) => o.order)).toEqual(['o3']);
    expect((await getAs(s, '/v1/customers/c1/orders?limit=20', s.token('admin'))).status).toBe(200);
    for (const limit of ['0', '21', '1.5', 'x', '-1']) {
      expect(await getAs(s, `/v1/customers/c1/orders?limit=${limit}`, s.token('admin')), limit).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    }

    expect((await getAs(s, '/v1/customers/c2/orders', s.token('customer', 'c2'))).body.orders.map((o: { order: string }) => o.order)).toEqual(['o2']);
    expect(await getAs(s, '/v1/customers/c1/orders', s.token('customer', 'c2'))).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect((await getAs(s, '/v1/customers/nobody/orders', s.token('customer', 'c2'))).status).toBe(403);
    expect((await getAs(s, '/v1/customers/c1/orders', s.token('associate', 'staff-1', 'S1'))).status).toBe(403);
    expect((await getAs(s, '/v1/customers/c1/orders', s.token('agent', 'a1'))).status).toBe(403);
    expect(await getAs(s, '/v1/customers/nobody/orders', s.token('admin'))).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await getAs(s, '/v1/customers/c1/orders')).status).toBe(401);
  });
});

describe('an order followed from placing to a return at another store', () => {
  it('the pickup store hears of it, readies and hands it over; the customer watches; another store takes the return and may then read it', async () => {
    const s = await server();
    await shop(s);
    const atS1 = await client(s, { token: s.token('associate', 'staff-1', 'S1') });
    const atS2 = await client(s, { token: s.token('associate', 'staff-2', 'S2') });
    const send = async (c: typeof atS1, event: Record<string, unknown>) => {
      c.send({ op: 'event', event });
      return (await c.next((m) => m.op === 'result' && m.ref === event.id)).msg;
    };
    await atS1.sub('store/S1');
    await post(s.url, s.token('ingest'), [{ id: 'p5', type: 'order.placed', order: 'o5', customer: 'c1', channel: 'app', pickup: 'S1', lines: [line('A', 1)] }]);
    expect((await atS1.next((m) => m.op === 'update' && m.topic === 'store/S1')).msg.data).toMatchObject({ type: 'pickup', order: 'o5' });

    const customer = await client(s, { token: s.token('customer', 'phone:+1') });
    expect(await customer.sub('order/o5')).toMatchObject({ op: 'snapshot', data: { status: 'placed' } });
    // Not S2's pickup to ready.
    expect(await send(atS2, { id: 'ready-far', type: 'order.ready', order: 'o5' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await send(atS1, { id: 'ready', type: 'order.ready', order: 'o5' })).toMatchObject({ ok: true, status: 'ready' });
    await customer.next((m) => m.op === 'update' && m.topic === 'order/o5' && m.data?.status === 'ready');
    expect(await send(atS1, { id: 'handed', type: 'order.picked_up', order: 'o5' })).toMatchObject({ ok: true, status: 'completed' });
    await customer.next((m) => m.op === 'update' && m.topic === 'order/o5' && m.data?.status === 'completed');
    // Once picked up, the customer may no longer cancel it.
    const [late] = await post(s.url, s.token('customer', 'c1'), [{ id: 'late-cancel', type: 'order.cancelled', order: 'o5' }]);
    expect(late).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // Returned at S2: S2's associate takes it there, not in S1's name, and may read the order from then on.
    expect(await atS2.sub('order/o5')).toMatchObject({ op: 'error', code: 'forbidden' });
    const back = { type: 'order.returned', return: 'ret1', order: 'o5', lines: [line('A', 1)], channel: 'store' };
    expect(await send(atS2, { ...back, id: 'ret-s1', location: 'S1' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await send(atS2, { ...back, id: 'ret-s2', location: 'S2' })).toMatchObject({ ok: true, status: 'returned' });
    expect(await atS2.sub('order/o5')).toMatchObject({ op: 'snapshot', data: { status: 'returned', returns: [{ return: 'ret1', location: 'S2' }] } });
  });
});

describe('order and store topics over the WebSocket', () => {
  it('an associate follows its own store and the orders there; a customer its own orders; nothing else', async () => {
    const s = await server();
    await shop(s);
    const associate = await client(s, { token: s.token('associate', 'staff-1', 'S1') });
    expect(await associate.sub('store/S1')).toMatchObject({ topic: 'store/S1' });
    expect(await associate.sub('store/S2')).toMatchObject({ op: 'error', code: 'forbidden' });
    expect(await associate.sub('order/o1')).toMatchObject({ op: 'snapshot', topic: 'order/o1', data: { order: 'o1', status: 'placed', pickup: 'S1' } });
    expect(await associate.sub('order/o2')).toMatchObject({ op: 'error', code: 'forbidden' });
    expect(await associate.sub('stats/commerce')).toMatchObject({ op: 'error', code: 'forbidden' });

    const customer = await client(s, { token: s.token('customer', 'c1') });
    expect(await customer.sub('order/o1')).toMatchObject({ op: 'snapshot', topic: 'order/o1', data: { order: 'o1', status: 'placed' } });
    expect(await customer.sub('order/o2')).toMatchObject({ op: 'error', code: 'forbidden' });
    expect(await customer.sub('store/S1')).toMatchObject({ op: 'error', code: 'forbidden' });

    const supervisor = await client(s, { token: s.token('supervisor') });
    expect(await supervisor.sub('order/o2')).toMatchObject({ op: 'snapshot', data: { order: 'o2' } });
    expect(await supervisor.sub('store/S2')).toMatchObject({ topic: 'store/S2' });
    expect(await supervisor.sub('stats/commerce')).toMatchObject({ topic: 'stats/commerce' });
    expect(await supervisor.sub('stats/other')).toMatchObject({ op: 'error', code: 'bad_frame' });

    // An associate token without a store is refused the store and its orders.
    const storeless = await client(s, { token: s.token('associate', 'staff-9') });
    expect(await storeless.sub('store/S1')).toMatchObject({ op: 'error', code: 'forbidden' });
    expect(await storeless.sub('order/o1')).toMatchObject({ op: 'error', code: 'forbidden' });
  });

  it('an associate sends what its store may: a counter sale there, not elsewhere; a web order is not its to place', async () => {
    const s = await server();
    await shop(s);
    const associate = await client(s, { token: s.token('associate', 'staff-1', 'S1') });
    const answer = async (event: Record<string, unknown>) => {
      associate.send({ op: 'event', event });
      return (await associate.next((m) => m.op === 'result' && m.ref === event.id)).msg;
    };
    expect(await answer({ id: 'sale', type: 'stock.sold', sku: 'A', location: 'S1', qty: 1, channel: 'store' })).toMatchObject({ ok: true });
    expect(await answer({ id: 'far-sale', type: 'stock.sold', sku: 'A', location: 'S2', qty: 1 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await answer({ id: 'recv', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await answer({ id: 'web', type: 'order.placed', order: 'o9', channel: 'web', pickup: 'S1', lines: [line('A', 1)] })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The endless aisle: placed at the counter of S1, picked up at S2.
    expect(await answer({ id: 'aisle', type: 'order.placed', order: 'o8', customer: 'c2', channel: 'store', pickup: 'S2', lines: [line('A', 1)] })).toMatchObject({ ok: true });

    // Over HTTP the same rules: o2 waits at S2, not S1.
    const [ready] = await post(s.url, s.token('associate', 'staff-1', 'S1'), [{ id: 'ready-o2', type: 'order.ready', order: 'o2' }]);
    expect(ready).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // A customer cancels its own placed order, not another's.
    const [others] = await post(s.url, s.token('customer', 'c2'), [{ id: 'cancel-o1', type: 'order.cancelled', order: 'o1' }]);
    expect(others).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const [own] = await post(s.url, s.token('customer', 'phone:+1'), [{ id: 'cancel-o1b', type: 'order.cancelled', order: 'o1' }]);
    expect(own).toMatchObject({ ok: true });
    expect((await getAs(s, '/v1/orders/o1', s.token('customer', 'c1'))).body.status).toBe('cancelled');
  });
});
