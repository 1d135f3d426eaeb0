// The customer domain end to end over a real engine and gateway: a kiosk token watching its
// `kiosk/<id>` screen while a shopper is identified and a shown SKU sells out at that store,
// `recs/<customer>` for a customer token, GET /v1/customers/:subject/recommendations with its
// permissions and errors, and identities and sessions surviving a restart.

import { describe, expect, it } from 'vitest';
import { loc, post, recv, sold, useWsServers, type WsServer, getAs } from './ws-harness.ts';

const { server, client } = useWsServers();
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 1, 12);

/** Earlier shoppers: after A, most went on to B, one to C, and D led to E. */
async function history(s: WsServer) {
  const events: unknown[] = [loc('l1', 'S1'), loc('l2', 'S2')];
  let t = T0 - 24 * 60 * MIN;
  const paths = [['A', 'B'], ['A', 'B'], ['A', 'C'], ['D', 'E']];
  paths.forEach((path, n) => path.forEach((sku, i) => events.push({ id: `h${n}-${i}`, type: 'activity.viewed', subject: `device:h${n}`, sku, channel: 'app', ts: (t += MIN) })));
  events.push(recv('rb1', 'B', 'S1', 1), recv('rc1', 'C', 'S1', 3), recv('rb2', 'B', 'S2', 4));
  await post(s.url, s.token('ingest'), events);
}

const skus = (items: Array<{ sku: string }>) => items.map((i) => i.sku);

describe('kiosks over WebSocket', () => {
  it('a kiosk sees the identified shopper’s list filtered by its store, and the list updates when a shown SKU sells out there', async () => {
    const s = await server();
    await history(s);
    const ingest = s.token('ingest');
    // The shopper browsed on the phone app at lunch.
    await post(s.url, ingest, [{ id: 'lunch', type: 'activity.viewed', subject: 'phone:+8613800000000', sku: 'A', channel: 'app', ts: T0 }]);

    const kiosk = await client(s, { token: s.token('kiosk', 'k1', 'S1') });
    expect(await kiosk.sub('kiosk/k1')).toMatchObject({ op: 'snapshot', topic: 'kiosk/k1', seq: 0 });
    // Another kiosk's screen and another store's identification are not this kiosk's.
    expect(await kiosk.sub('kiosk/k2')).toMatchObject({ op: 'error', code: 'forbidden' });

    // C is gone from S1's shelves before the shopper arrives.
    await post(s.url, ingest, [sold('sc', 'C', 'S1', 3)]);
    kiosk.send({ op: 'event', event: { id: 'qr', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'phone:+8613800000000' } });
    const result = (await kiosk.next((m) => m.op === 'result' && m.ref === 'qr')).msg;
    expect(result).toMatchObject({ ok: true, customer: 'phone:+8613800000000' });
    const first = (await kiosk.next((m) => m.op === 'update' && m.topic === 'kiosk/k1')).msg;
    expect(first).toMatchObject({ seq: 1, data: { type: 'recommendations', kiosk: 'k1', customer: 'phone:+8613800000000', location: 'S1' } });
    expect(skus(first.data.items)).toContain('B');
    expect(skus(first.data.items)).not.toContain('C');

    // The last B at S1 is sold at the counter: the screen gets a list without it.
    await post(s.url, ingest, [sold('sb', 'B', 'S1', 1)]);
    const second = (await kiosk.next((m) => m.op === 'update' && m.topic === 'kiosk/k1' && m.seq === 2)).msg;
    expect(skus(second.data.items)).not.toContain('B');
    expect(skus(second.data.items)).not.toContain('C');

    kiosk.send({ op: 'event', event: { id: 'elsewhere', type: 'kiosk.identified', kiosk: 'k1', location: 'S2', subject: 'phone:+8613800000000' } });
    expect((await kiosk.next((m) => m.ref === 'elsewhere')).msg).toMatchObject({ op: 'result', ok: false, error: { code: 'forbidden' } });
    // The shopper browsing on the kiosk: activity at its own store only.
    kiosk.send({ op: 'event', event: { id: 'tap', type: 'activity.viewed', subject: 'phone:+8613800000000', sku: 'D', channel: 'kiosk', location: 'S1', ts: T0 + 6 * 3600_000 } });
    expect((await kiosk.next((m) => m.ref === 'tap')).msg).toMatchObject({ op: 'result', ok: true, customer: 'phone:+8613800000000', session: 'phone:+8613800000000#2' });
    kiosk.send({ op: 'event', event: { id: 'far', type: 'activity.viewed', subject: 'phone:+8613800000000', sku: 'D', channel: 'kiosk', location: 'S2' } });
    expect((await kiosk.next((m) => m.ref === 'far')).msg).toMatchObject({ op: 'result', ok: false, error: { code: 'forbidden' } });
  });
});

describe('recs/<customer> and the recommendations route', () => {
  it('a customer watches its own list change as it browses; it may not watch another', async () => {
    const s = await server();
    await history(s);
    const me = await client(s, { token: s.token('customer', 'c1') });
    expect(await me.sub('recs/c1')).toMatchObject({ op: 'snapshot', seq: 0, data: null });
    expect(await me.sub('recs/c2')).toMatchObject({ op: 'error', code: 'forbidden' });
    await post(s.url, s.token('ingest'), [{ id: 'v1', type: 'activity.viewed', subject: 'c1', sku: 'A', channel: 'web', ts: T0 }]);
    const update = (await me.next((m) => m.op === 'update' && m.topic === 'recs/c1')).msg;
    expect(update.data.customer).toBe('c1');
    const list = skus(update.data.items);
    expect(list).toContain('B');
    expect(list.indexOf('B')).toBeLessThan(list.indexOf('C'));
  });

  it('GET answers the list for a store, with limits, permissions and errors', async () => {
    const s = await server();
    await history(s);
    await post(s.url, s.token('ingest'), [
      { id: 'v1', type: 'activity.viewed', subject: 'email:a@b.c', sku: 'A', channel: 'web', ts: T0 },
      { id: 'link', type: 'identity.linked', ids: ['email:a@b.c', 'phone:+1'] },
      sold('sb', 'B', 'S1', 1),
    ]);
    const admin = s.token('admin');
    const atS1 = await getAs(s, '/v1/customers/phone%3A%2B1/recommendations?location=S1&limit=3', admin);
    expect(atS1.status).toBe(200);
    // The link made the customer, named by its phone (phones rank before e-mails); the e-mail's activity came along.
    expect(atS1.body.customer).toBe('phone:+1');
    expect(atS1.body.items.length).toBeLessThanOrEqual(3);
    expect(skus(atS1.body.items)).not.toContain('B');
    const atS2 = await getAs(s, '/v1/customers/phone%3A%2B1/recommendations?location=S2', admin);
    expect(skus(atS2.body.items)).toContain('B');
    for (const item of atS2.body.items) expect(typeof item.score).toBe('number');

    // The customer itself, by any of its ids; not someone else.
    expect((await getAs(s, '/v1/customers/email%3Aa%40b.c/recommendations', s.token('customer', 'email:a@b.c'))).status).toBe(200);
    expect((await getAs(s, '/v1/customers/phone%3A%2B1/recommendations', s.token('customer', 'email:a@b.c'))).status).toBe(200);
    expect((await getAs(s, '/v1/customers/email%3Aa%40b.c/recommendations', s.token('customer', 'phone:+1'))).status).toBe(200);
    expect((await getAs(s, '/v1/customers/phone%3A%2B1/recommendations', s.token('customer', 'someone'))).status).toBe(403);
    expect((await getAs(s, '/v1/customers/nobody/recommendations', s.token('customer', 'someone'))).status).toBe(403);
    expect((await getAs(s, '/v1/customers/phone%3A%2B1/recommendations')).status).toBe(401);

    expect(await getAs(s, '/v1/customers/nobody/recommendations', admin)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await getAs(s, '/v1/customers/phone%3A%2B1/recommendations?location=MARS', admin)).toMatchObject({ status: 400, body: { error: { code: 'unknown_location' } } });
    for (const limit of ['0', '101', 'x', '2.5', '-1']) {
      expect(await getAs(s, `/v1/customers/phone%3A%2B1/recommendations?limit=${limit}`, admin)).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    }
    expect((await getAs(s, '/v1/customers/%E0%A4%A/recommendations', admin)).status).toBe(400);
  });
});

describe('restart', () => {
  it('identities, merges and the open session survive a restart', async () => {
    const first = await server();
    await history(first);
    await post(first.url, first.token('ingest'), [
      { id: 'a1', type: 'activity.viewed', subject: 'device:tab', sku: 'D', channel: 'kiosk', ts: T0 },
      { id: 'id1', type: 'identity.linked', ids: ['wechat:o6_x'], customer: 'c7', ts: T0 + MIN },
      { id: 'id2', type: 'identity.linked', ids: ['device:tab', 'wechat:o6_x'], ts: T0 + 2 * MIN },
    ]);
    const dir = first.dataDir;
    await first.stop(true);

    const again = await server({}, dir);
    const admin = again.token('admin');
    const recs = await getAs(again, '/v1/customers/c7/recommendations', admin);
    expect(recs.status).toBe(200);
    // The device's open session (D) moved to c7, the customer the link joined it to, and drives its list.
    expect(recs.body.customer).toBe('c7');
    expect(skus(recs.body.items)).toContain('E');
    expect(skus(recs.body.items).indexOf('E')).toBeLessThan(skus(recs.body.items).indexOf('B'));
    // The same merge sent again is recognised, not applied twice.
    const [dup] = await post(again.url, again.token('ingest'), [{ id: 'id2', type: 'identity.linked', ids: ['device:tab', 'wechat:o6_x'], ts: T0 + 2 * MIN }]);
    expect(dup).toMatchObject({ ok: true, duplicate: true });
    const [next] = await post(again.url, again.token('ingest'), [{ id: 'a2', type: 'activity.viewed', subject: 'wechat:o6_x', sku: 'A', channel: 'app', ts: T0 + 3 * MIN }]);
    expect(next).toMatchObject({ ok: true, customer: 'c7', session: 'c7#1' });
  });
});
