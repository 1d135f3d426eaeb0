// The commerce figures end to end over a real engine and gateway: orders placed, picked up,
// shipped, cancelled, expired and returned across channels and stores, then GET
// /v1/commerce/stats (by channel and by location) and the `stats/commerce` topic give the exact
// figures of that mix — the same after the server restarts on its data dir. Who may read them,
// and what a bad window or dimension is answered.

import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type Role } from '../gateway/mod.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { post, startWsServer, WsClient, type Msg, type WsServer, getAs, mustApply } from './ws-harness.ts';

/** How long a ready pickup order waits here: short, so one expires while the test watches. */
const PICKUP_HOLD_MS = 300;

const token = (role: Role, sub = `${role}-1`, loc?: string) => signToken(loc === undefined ? { role, sub } : { role, sub, loc }, TEST_SECRET);
const supervisor = token('supervisor');

/** A server on `dataDir` (a new one without), ready pickup orders held PICKUP_HOLD_MS. */
const start = (dataDir?: string): Promise<WsServer> => startWsServer({}, dataDir, { stock: { pickupHoldMs: PICKUP_HOLD_MS } });

const store = (id: string, location: string, lat: number) => ({ id, type: 'location.upserted', location, kind: 'store', lat, lon: 13 });
const priced = (sku: string, qty: number, price?: number) => (price === undefined ? { sku, qty } : { sku, qty, price });

const BY_CHANNEL = [
  { key: 'app', orders: 2, revenue: 500, aov: 500, pickupShare: 0.5, cancelRate: 0.5, expiredRate: 1, returnRate: null, crossChannel: 0 },
  { key: 'store', orders: 1, revenue: 2000, aov: 2000, pickupShare: 1, cancelRate: 0, expiredRate: 0, returnRate: 0, crossChannel: 0 },
  { key: 'web', orders: 2, revenue: 4000, aov: 2000, pickupShare: 0.5, cancelRate: 0, expiredRate: 0, returnRate: 0.5, crossChannel: 0.5 },
];
const BY_LOCATION = [
  { key: 'store-1', orders: 2, revenue: 1500, aov: 750, pickupShare: 1, cancelRate: 0, expiredRate: 0.5, returnRate: 1, crossChannel: 0.5 },
  { key: 'store-2', orders: 1, revenue: 2000, aov: 2000, pickupShare: 1, cancelRate: 0, expiredRate: 0, returnRate: 0, crossChannel: 0 },
  { key: 'wh-1', orders: 2, revenue: 3000, aov: 3000, pickupShare: 0, cancelRate: 0.5, expiredRate: null, returnRate: 0, crossChannel: 0 },
];
const TOTAL = { orders: 5, revenue: 6500, aov: 1625, pickupShare: 0.6, cancelRate: 0.2, expiredRate: 1 / 3, returnRate: 1 / 3, crossChannel: 0.2 };
const BY_CHANNEL_ANSWER = { window: '1h', by: 'channel', groups: BY_CHANNEL, total: TOTAL };

/** A `stats/commerce` message (snapshot or update) carrying the whole mix. */
const showsTheMix = (m: Msg) => m.topic === 'stats/commerce' && isDeepStrictEqual(m.data?.total, TOTAL);

let server: WsServer | undefined;

beforeAll(async () => {
  server = await start();
  const s = server;
  await mustApply(s, [
    store('l1', 'store-1', 52.5),
    store('l2', 'store-2', 48.1),
    { id: 'l3', type: 'location.upserted', location: 'wh-1', kind: 'warehouse', lat: 50.1, lon: 8.7 },
    { id: 'r1', type: 'stock.received', sku: 'A', location: 'store-1', qty: 10 },
    { id: 'r2', type: 'stock.received', sku: 'A', location: 'store-2', qty: 10 },
    { id: 'r3', type: 'stock.received', sku: 'B', location: 'wh-1', qty: 10 },
  ]);
  // Watching the topic from before the first order: its updates tell when every news is counted.
  const watcher = await WsClient.open(s.wsUrl, { token: supervisor });
  try {
    await watcher.sub('stats/commerce');
    await mustApply(s, [
      { id: 'p1', type: 'order.placed', order: 'o1', channel: 'web', pickup: 'store-1', lines: [priced('A', 2, 500)], currency: 'EUR' },
      { id: 'p2', type: 'order.placed', order: 'o2', channel: 'web', ship: { lat: 50, lon: 8.6 }, lines: [priced('B', 1, 3000)] },
      { id: 'p3', type: 'order.placed', order: 'o3', channel: 'app', pickup: 'store-1', lines: [priced('A', 1, 500)] },
      { id: 'p4', type: 'order.placed', order: 'o4', channel: 'app', ship: { lat: 50, lon: 8.6 }, lines: [priced('B', 1)] },
      { id: 'p5', type: 'order.placed', order: 'o5', channel: 'store', pickup: 'store-2', lines: [priced('A', 1, 2000)] },
    ]);
    await mustApply(s, [
      // Bought on the web, picked up in the store (another channel), returned at another store.
      { id: 'f1', type: 'order.picked_up', order: 'o1' },
      { id: 'f2', type: 'order.shipped', order: 'o2', carrier: 'dhl' },
      // Left uncollected: its hold runs out.
      { id: 'f3', type: 'order.ready', order: 'o3' },
      { id: 'f4', type: 'order.cancelled', order: 'o4' },
      { id: 'f5', type: 'order.fulfilled', order: 'o5' },
    ]);
    await mustApply(s, [{ id: 'ret1', type: 'order.returned', return: 'ret1', order: 'o1', lines: [{ sku: 'A', qty: 1 }], location: 'store-2' }]);
    await watcher.next(showsTheMix);
  } finally {
    await watcher.close();
  }
});

afterAll(() => server?.stop());

describe('commerce figures over HTTP and WebSocket', () => {
  it('GET /v1/commerce/stats gives the exact figures of the mix, by channel (the default) and by location', async () => {
    const s = server!;
    expect(await getAs(s, '/v1/commerce/stats', supervisor)).toEqual({ status: 200, body: BY_CHANNEL_ANSWER });
    expect(await getAs(s, '/v1/commerce/stats?window=24h&by=location', token('admin'))).toEqual({
      status: 200,
      body: { window: '24h', by: 'location', groups: BY_LOCATION, total: TOTAL },
    });
    // Every order was placed within the last minutes: a 5 minute window holds them all.
    expect((await getAs(s, '/v1/commerce/stats?window=5m', supervisor)).body.total).toEqual(TOTAL);
  });

  it('the stats/commerce topic shows the last hour by channel', async () => {
    const s = server!;
    const client = await WsClient.open(s.wsUrl, { token: supervisor });
    try {
      const snapshot = await client.sub('stats/commerce');
      expect(snapshot.data).toEqual(BY_CHANNEL_ANSWER);
    } finally {
      await client.close();
    }
  });

  it('is for supervisor and admin tokens only', async () => {
    const s = server!;
    expect((await getAs(s, '/v1/commerce/stats')).status).toBe(401);
    expect((await getAs(s, '/v1/commerce/stats', 'x.y.z')).status).toBe(401);
    const roles: Array<[Role, string?]> = [['customer'], ['kiosk', 'store-1'], ['agent'], ['ingest'], ['associate', 'store-1']];
    for (const [role, loc] of roles) {
      const answer = await getAs(s, '/v1/commerce/stats', token(role, `${role}-1`, loc));
      expect(answer, role).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    }
  });

  it('takes no commerce news from a sender: the figures come from the orders alone', async () => {
    const s = server!;
    const forged = { id: 'forged', type: 'commerce.counted', order: 'x', kind: 'placed', placedAt: Date.now(), channel: 'web', location: 'store-1', pickup: false, revenue: 1e6, at: Date.now() };
    const [answer] = await post(s.url, token('admin'), [forged]);
    expect(answer).toMatchObject({ id: 'forged', ok: false, error: { code: 'unknown_type' } });
    expect((await getAs(s, '/v1/commerce/stats', supervisor)).body).toEqual(BY_CHANNEL_ANSWER);
  });

  it('answers 400 bad_request for a window outside 1 minute to 24 hours or another dimension', async () => {
    const s = server!;
    for (const query of ['window=25h', 'window=0m', 'window=1d', 'window=abc', 'by=sku', 'window=1h&by=Channel']) {
      const answer = await getAs(s, `/v1/commerce/stats?${query}`, supervisor);
      expect(answer, query).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    }
  });

  it('keeps the figures across a restart on the same data dir', async () => {
    const dataDir = server!.dataDir;
    await server!.stop(true);
    server = undefined;
    server = await start(dataDir);
    const s = server;
    expect(await getAs(s, '/v1/commerce/stats?window=1h&by=channel', supervisor)).toEqual({ status: 200, body: BY_CHANNEL_ANSWER });
    expect((await getAs(s, '/v1/commerce/stats?by=location', supervisor)).body.groups).toEqual(BY_LOCATION);
    const client = await WsClient.open(s.wsUrl, { token: supervisor });
    try {
      expect((await client.sub('stats/commerce')).data).toEqual(BY_CHANNEL_ANSWER);
    } finally {
      await client.close();
    }
  });
});
