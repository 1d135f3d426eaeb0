// An order's clocks survive the process: `omni serve` (a real child process, fsync) is killed
// with SIGKILL or stopped with SIGTERM and started again on the same data dir.
//   - Pickup expiry: a ready order whose hold (--pickup-hold-ms) runs out after a kill -9 expires
//     on the restarted server — its holds go back on sale, `pickup_expired` is raised on
//     alerts/stock and the store hears of it — and one whose hold ran out while the server was
//     down expires once it is back.
//   - The return window (--return-window-ms, by event time from the shipping or the pickup): a
//     return after it is refused `return_window_passed` after a restart, one before it is
//     accepted, and a refused return changes no stock.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EventResult, InputEvent } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { getStock, killHard, postEvents, startServe, tempDirs, type RunningServe } from './fixtures/omni-process.ts';
import { WsClient } from './ws-harness.ts';

const SECRET = 'order-crash-secret';
const ADMIN = signToken({ sub: 'ops', role: 'admin' }, SECRET);
/** Long enough for a restart and the subscriptions after it, on a busy machine. */
const HOLD_MS = 8000;
const SHORT_HOLD_MS = 1000;
const WINDOW_MS = 60_000;
const T0 = 1_765_000_000_000;

const dirs = tempDirs('omni-order-crash-');
const running = new Set<RunningServe>();
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of running) await killHard(s);
  running.clear();
});
afterAll(() => dirs.cleanup());

async function serve(dataDir: string, args: string[]): Promise<RunningServe> {
  const server = await startServe({ dataDir, secret: SECRET, workers: 1, args });
  running.add(server);
  return server;
}

async function kill9(server: RunningServe): Promise<void> {
  expect(await killHard(server)).toEqual({ code: null, signal: 'SIGKILL' });
  running.delete(server);
}

/** SIGTERM: a clean stop, as a deployment restarts it. */
async function stop(server: RunningServe): Promise<void> {
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
  running.delete(server);
}

/** Waits, the server down, until the clock is past `at`: the time that passes while it is down is what is tested. */
const downUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now()) + 50));

let sent = 0;
async function send(server: RunningServe, events: Array<Omit<InputEvent, 'id'> & { id?: string }>): Promise<EventResult[]> {
  const body = events.map((e) => ({ id: `e${++sent}`, ...e }));
  const answer = await postEvents(server.url, ADMIN, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.results;
}

async function sendOk(server: RunningServe, events: Array<Omit<InputEvent, 'id'> & { id?: string }>): Promise<any[]> {
  const results = await send(server, events);
  expect(results.filter((r) => !r.ok)).toEqual([]);
  return results;
}

async function order(server: RunningServe, id: string): Promise<any> {
  const response = await fetch(`${server.url}/v1/orders/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(response.status).toBe(200);
  return response.json();
}

async function stockAt(server: RunningServe, sku: string, location: string): Promise<{ onHand: number; reserved: number; available: number }> {
  const got = await getStock(server.url, sku);
  expect(got.status, sku).toBe(200);
  // A location that never held the SKU has no row: nothing there.
  const { onHand, reserved, available } = got.body.locations[location] ?? { onHand: 0, reserved: 0, available: 0 };
  return { onHand, reserved, available };
}

async function watch(server: RunningServe, topics: string[]): Promise<{ ws: WsClient; first: Record<string, any> }> {
  const ws = await WsClient.open(`${server.url.replace('http', 'ws')}/v1/ws`, { token: ADMIN });
  clients.push(ws);
  const first: Record<string, any> = {};
  for (const topic of topics) {
    first[topic] = await ws.sub(topic);
    expect(first[topic].op, JSON.stringify(first[topic])).toBe('snapshot');
  }
  return { ws, first };
}

/**
 * Resolves once `stock/<sku>@<location>` shows `row` (already, or by a later update): an expiry
 * releases its holds one step after the order shows `expired`. Then GET agrees.
 */
async function stockBecomes(server: RunningServe, sku: string, location: string, row: { onHand: number; reserved: number; available: number }): Promise<void> {
  const topic = `stock/${sku}@${location}`;
  const { ws, first } = await watch(server, [topic]);
  const shows = (d: any) => d != null && d.onHand === row.onHand && d.reserved === row.reserved && d.available === row.available;
  if (!shows(first[topic].data)) await ws.next((m) => m.topic === topic && shows(m.data));
  expect(await stockAt(server, sku, location)).toEqual(row);
}


/** Resolves with the order's state once its topic shows `status` (already, or by a later update). */
async function untilStatus(ws: WsClient, snapshot: any, topic: string, status: string): Promise<any> {
  if (snapshot.data?.status === status) return snapshot.data;
  return (await ws.next((m) => m.topic === topic && m.op !== 'error' && m.data?.status === status)).msg.data;
}

const stores = [
  { type: 'location.upserted', location: 'S1', kind: 'store', lat: 52.52, lon: 13.4 },
  { type: 'location.upserted', location: 'S2', kind: 'store', lat: 48.14, lon: 11.58 },
  { type: 'location.upserted', location: 'WH', kind: 'warehouse', lat: 50.11, lon: 8.68 },
];

describe('pickup expiry across a kill -9 and a restart', () => {
  it('a ready order whose hold runs out after a kill -9 expires on the restarted server: holds back on sale, pickup_expired, the store told', async () => {
    const dataDir = dirs.make();
    const args = ['--pickup-hold-ms', String(HOLD_MS), '--low-stock', '0'];
    let server = await serve(dataDir, args);
    await sendOk(server, [...stores, { type: 'stock.received', sku: 'P', location: 'S1', qty: 5 }, { type: 'stock.received', sku: 'Q', location: 'S1', qty: 3 }]);
    await sendOk(server, [{ type: 'order.placed', order: 'o1', customer: 'c1', pickup: 'S1', channel: 'app', lines: [{ sku: 'P', qty: 2 }, { sku: 'Q', qty: 1 }] }]);
    expect(await stockAt(server, 'P', 'S1')).toEqual({ onHand: 5, reserved: 2, available: 3 });
    const [ready] = await sendOk(server, [{ type: 'order.ready', order: 'o1' }]);
    expect(ready).toMatchObject({ order: 'o1', status: 'ready' });
    expect(ready.readyUntil).toBeGreaterThan(Date.now());
    const before = await watch(server, ['alerts/stock', 'store/S1']);
    await kill9(server);

    server = await serve(dataDir, args);
    const { ws, first } = await watch(server, ['alerts/stock', 'store/S1', 'order/o1']);
    const expired = await untilStatus(ws, first['order/o1'], 'order/o1', 'expired');
    expect(expired.readyUntil ?? ready.readyUntil).toBe(ready.readyUntil);
    expect(expired.history.map((h: { status: string }) => h.status)).toEqual(['placed', 'ready', 'expired']);
    // Topic seqs are durable: the expiry raised exactly one alert and one store notice. Published
    // before these subscriptions (a restart slower than the hold), the snapshot's seq counts it;
    // otherwise it comes on them.
    for (const [topic, type] of [['alerts/stock', 'pickup_expired'], ['store/S1', 'expired']] as const) {
      const seq = before.first[topic].seq as number;
      if (first[topic].seq === seq + 1) continue;
      expect(first[topic].seq).toBe(seq);
      const { msg } = await ws.next((m) => m.topic === topic && m.op === 'update');
      expect(msg.seq).toBe(seq + 1);
      expect(msg.data).toMatchObject(topic === 'store/S1' ? { type, order: 'o1' } : { type, order: 'o1', location: 'S1' });
    }
    // The holds went back on sale, once.
    await stockBecomes(server, 'P', 'S1', { onHand: 5, reserved: 0, available: 5 });
    await stockBecomes(server, 'Q', 'S1', { onHand: 3, reserved: 0, available: 3 });
    expect((await order(server, 'o1')).status).toBe('expired');
    // An expired order is closed: it cannot be picked up any more.
    const [late] = await send(server, [{ type: 'order.picked_up', order: 'o1' }]);
    expect(late).toMatchObject({ ok: false, error: { code: 'invalid_transition' } });
    expect(ws.messages.filter((m) => m.topic === 'alerts/stock' && m.data?.type === 'pickup_expired').length).toBeLessThanOrEqual(1);
  }, 60_000);

  it('a hold that ran out while the server was down (stopped, then killed) expires when it is back', async () => {
    const dataDir = dirs.make();
    const args = ['--pickup-hold-ms', String(SHORT_HOLD_MS)];
    let server = await serve(dataDir, args);
    await sendOk(server, [...stores, { type: 'stock.received', sku: 'P', location: 'S2', qty: 4 }]);
    await sendOk(server, [
      { type: 'order.placed', order: 'o2', pickup: 'S2', lines: [{ sku: 'P', qty: 3 }] },
      { type: 'order.placed', order: 'o3', pickup: 'S2', lines: [{ sku: 'P', qty: 1 }] },
    ]);
    const [ready2] = await sendOk(server, [{ type: 'order.ready', order: 'o2' }]);
    await stop(server);
    await downUntil(ready2.readyUntil);

    server = await serve(dataDir, args);
    let { ws, first } = await watch(server, ['order/o2']);
    await untilStatus(ws, first['order/o2'], 'order/o2', 'expired');
    await stockBecomes(server, 'P', 'S2', { onHand: 4, reserved: 1, available: 3 });

    // The same after a kill -9 instead of a clean stop.
    const [ready3] = await sendOk(server, [{ type: 'order.ready', order: 'o3' }]);
    await kill9(server);
    await downUntil(ready3.readyUntil);
    server = await serve(dataDir, args);
    ({ ws, first } = await watch(server, ['order/o3']));
    await untilStatus(ws, first['order/o3'], 'order/o3', 'expired');
    await stockBecomes(server, 'P', 'S2', { onHand: 4, reserved: 0, available: 4 });
    expect((await order(server, 'o2')).status).toBe('expired');
  }, 60_000);
});

describe('the return window across a kill -9', () => {
  it('refuses a return after --return-window-ms and accepts one before, by event time from the shipping or the pickup', async () => {
    const dataDir = dirs.make();
    const args = ['--return-window-ms', String(WINDOW_MS)];
    let server = await serve(dataDir, args);
    await sendOk(server, [
      ...stores,
      { type: 'stock.received', sku: 'R', location: 'WH', qty: 10, ts: T0 },
      { type: 'stock.received', sku: 'R', location: 'S1', qty: 10, ts: T0 },
    ]);
    await sendOk(server, [{ type: 'order.placed', order: 'ship-1', ship: { lat: 50.1, lon: 8.7 }, lines: [{ sku: 'R', qty: 3, price: 500 }], ts: T0 }]);
    await sendOk(server, [{ type: 'order.placed', order: 'pick-1', pickup: 'S1', lines: [{ sku: 'R', qty: 2, price: 700 }], ts: T0 }]);
    await sendOk(server, [
      { type: 'order.shipped', order: 'ship-1', ts: T0 + 1000 },
      { type: 'order.picked_up', order: 'pick-1', ts: T0 + 5000 },
    ]);
    await kill9(server);

    server = await serve(dataDir, args);
    const before = await stockAt(server, 'R', 'S2');
    const [late, lateAtStore] = await send(server, [
      { type: 'order.returned', return: 'ret-late', order: 'ship-1', lines: [{ sku: 'R', qty: 1 }], location: 'S2', ts: T0 + 1000 + WINDOW_MS + 1 },
      { type: 'order.returned', return: 'ret-late-2', order: 'pick-1', lines: [{ sku: 'R', qty: 1 }], location: 'S2', ts: T0 + 5000 + WINDOW_MS + 1 },
    ]);
    expect(late).toMatchObject({ ok: false, error: { code: 'return_window_passed' } });
    expect(lateAtStore).toMatchObject({ ok: false, error: { code: 'return_window_passed' } });
    expect(await stockAt(server, 'R', 'S2')).toEqual(before);

    // Within the window (its last moment included): accepted, the goods on hand where they came back.
    const [inTime, inTimeAtStore] = await sendOk(server, [
      { type: 'order.returned', return: 'ret-1', order: 'ship-1', lines: [{ sku: 'R', qty: 2 }], location: 'S2', ts: T0 + 1000 + WINDOW_MS - 1 },
      { type: 'order.returned', return: 'ret-2', order: 'pick-1', lines: [{ sku: 'R', qty: 2 }], location: 'S2', ts: T0 + 5000 + 10 },
    ]);
    expect(inTime).toMatchObject({ order: 'ship-1', status: 'partially_returned', return: 'ret-1', refund: 1000 });
    expect(inTimeAtStore).toMatchObject({ order: 'pick-1', status: 'returned', return: 'ret-2', refund: 1400 });
    expect(await stockAt(server, 'R', 'S2')).toEqual({ onHand: before.onHand + 4, reserved: 0, available: before.available + 4 });
    await kill9(server);

    // After another kill -9: the window still counts from the shipping, and what came back stays back once.
    server = await serve(dataDir, args);
    const [stillLate] = await send(server, [{ type: 'order.returned', return: 'ret-late-3', order: 'ship-1', lines: [{ sku: 'R', qty: 1 }], location: 'S2', ts: T0 + 1000 + WINDOW_MS + 60_000 }]);
    expect(stillLate).toMatchObject({ ok: false, error: { code: 'return_window_passed' } });
    const shipped = await order(server, 'ship-1');
    expect(shipped).toMatchObject({ status: 'partially_returned', lines: [{ sku: 'R', qty: 3, price: 500, returned: 2 }] });
    expect(shipped.returns).toEqual([expect.objectContaining({ return: 'ret-1', location: 'S2', refund: 1000 })]);
    expect(await stockAt(server, 'R', 'S2')).toEqual({ onHand: before.onHand + 4, reserved: 0, available: before.available + 4 });
  }, 60_000);

  it('without ts the window runs on arrival time: a return sent after it passed while the server was down is refused', async () => {
    const dataDir = dirs.make();
    const args = ['--return-window-ms', String(SHORT_HOLD_MS)];
    let server = await serve(dataDir, args);
    await sendOk(server, [...stores, { type: 'stock.received', sku: 'R', location: 'WH', qty: 5 }]);
    await sendOk(server, [{ type: 'order.placed', order: 'ship-2', ship: { lat: 50.1, lon: 8.7 }, lines: [{ sku: 'R', qty: 1 }] }]);
    await sendOk(server, [{ type: 'order.shipped', order: 'ship-2' }]);
    const shippedAt = Date.now();
    await kill9(server);
    await downUntil(shippedAt + SHORT_HOLD_MS);

    server = await serve(dataDir, args);
    const [late] = await send(server, [{ type: 'order.returned', return: 'ret-3', order: 'ship-2', lines: [{ sku: 'R', qty: 1 }], location: 'S1' }]);
    expect(late).toMatchObject({ ok: false, error: { code: 'return_window_passed' } });
    expect((await getStock(server.url, 'R')).body.locations.S1).toBeUndefined();
  }, 60_000);
});
