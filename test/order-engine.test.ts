// The order's life in a real engine (LMDB, manual clock): a repeated event id gets the first
// answer marked duplicate and is not applied twice (a return restocks once), the pickup hold's
// timer is durable and fires on the order's partition after a restart, and order/<id> is a
// state topic with its view.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEngine, type Engine } from '../engine/mod.ts';
import { stockProcessor } from '../engine/stock/mod.ts';
import type { EventResult } from '../engine/types.ts';

const HOLD = 60_000;
let dir: string;
let now: number;
let engine: Engine;

const open = () =>
  openEngine({ path: dir, processors: [stockProcessor({ pickupHoldMs: HOLD })], clock: { now: () => now }, autoTimers: false, durability: 'none', partitions: 8 });

async function send(...events: Array<Record<string, unknown>>): Promise<EventResult[]> {
  return engine.submit(events as never);
}

const onHand = (sku: string, location: string) => (engine.snapshot(`stock/${sku}`)?.data as any)?.locations?.[location]?.onHand;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omni-orders-'));
  now = 1_700_000_000_000;
  engine = await open();
  await send(
    { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 52.5, lon: 13.4 },
    { id: 'l2', type: 'location.upserted', location: 'S2', kind: 'store', lat: 48.1, lon: 11.6 },
    { id: 'r1', type: 'stock.received', sku: 'A', location: 'S1', qty: 5 },
    { id: 'r2', type: 'stock.received', sku: 'B', location: 'S1', qty: 5 },
  );
});

afterEach(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('orders in the engine', () => {
  it('a repeated return id is answered duplicate and restocks once; another event with that return id is a conflict', async () => {
    await send({ id: 'p', type: 'order.placed', order: 'O', pickup: 'S1', lines: [{ sku: 'A', qty: 2, price: 100 }, { sku: 'B', qty: 1, price: 50 }] });
    await send({ id: 'u', type: 'order.picked_up', order: 'O' });
    const ret = { id: 'ret', type: 'order.returned', order: 'O', return: 'R', location: 'S2', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] };
    const [first, again] = await send(ret, ret);
    expect(first).toEqual({ id: 'ret', ok: true, order: 'O', status: 'returned', return: 'R', refund: 250 });
    expect(again).toEqual({ ...first, duplicate: true });
    expect((await send(ret))[0]).toEqual({ ...first, duplicate: true });
    expect((await send({ ...ret, id: 'ret2' }))[0]).toMatchObject({ ok: false, error: { code: 'invalid_transition' } });
    expect(onHand('A', 'S2')).toBe(2);
    expect(onHand('B', 'S2')).toBe(1);
    expect(engine.snapshot('order/O')?.data).toMatchObject({ order: 'O', status: 'returned', returns: [{ return: 'R', location: 'S2', refund: 250 }] });
  });

  it('two placings of one order id in one request: the second is placed when the first is refused, a conflict when it placed the order', async () => {
    const [refused, placed] = await send(
      { id: 'p1', type: 'order.placed', order: 'O', pickup: 'S1', lines: [{ sku: 'A', qty: 99 }] },
      { id: 'p2', type: 'order.placed', order: 'O', pickup: 'S1', lines: [{ sku: 'A', qty: 2 }] },
    );
    expect(refused).toMatchObject({ id: 'p1', ok: false, error: { code: 'insufficient_stock' } });
    expect(placed).toMatchObject({ id: 'p2', ok: true, order: 'O', allocation: [{ sku: 'A', qty: 2, location: 'S1' }] });
    const [first, second] = await send(
      { id: 'q1', type: 'order.placed', order: 'Q', pickup: 'S1', lines: [{ sku: 'B', qty: 1 }] },
      { id: 'q2', type: 'order.placed', order: 'Q', pickup: 'S1', lines: [{ sku: 'B', qty: 2 }] },
    );
    expect(first).toMatchObject({ ok: true, order: 'Q' });
    expect(second).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(engine.snapshot('stock/A@S1')?.data).toMatchObject({ onHand: 5, reserved: 2 });
    expect(engine.snapshot('stock/B@S1')?.data).toMatchObject({ onHand: 5, reserved: 1 });
  });

  it('a second return of the same id on a partly returned order is a conflict', async () => {
    await send({ id: 'p', type: 'order.placed', order: 'O', pickup: 'S1', lines: [{ sku: 'A', qty: 2 }] });
    await send({ id: 'u', type: 'order.picked_up', order: 'O' });
    expect((await send({ id: 'x1', type: 'order.returned', order: 'O', return: 'R', location: 'S1', lines: [{ sku: 'A', qty: 1 }] }))[0]).toMatchObject({ ok: true, status: 'partially_returned' });
    expect((await send({ id: 'x2', type: 'order.returned', order: 'O', return: 'R', location: 'S1', lines: [{ sku: 'A', qty: 1 }] }))[0]).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(onHand('A', 'S1')).toBe(4);
  });

  it('the pickup hold runs out after a restart: the durable timer fires and releases the holds', async () => {
    await send({ id: 'p', type: 'order.placed', order: 'O', pickup: 'S1', lines: [{ sku: 'A', qty: 2 }] });
    expect((await send({ id: 'ready', type: 'order.ready', order: 'O' }))[0]).toMatchObject({ ok: true, status: 'ready', readyUntil: now + HOLD });
    await engine.close();
    engine = await open();
    now += HOLD - 1;
    expect(await engine.runDueTimers()).toBe(0);
    now += 1;
    expect(await engine.runDueTimers()).toBe(1);
    await engine.idle();
    expect(engine.snapshot('order/O')?.data).toMatchObject({ status: 'expired' });
    expect((engine.snapshot('stock/A')?.data as any).locations.S1).toMatchObject({ onHand: 5, reserved: 0 });
    expect((await send({ id: 'late', type: 'order.picked_up', order: 'O' }))[0]).toMatchObject({ ok: false, error: { code: 'invalid_transition' } });
  });
});
