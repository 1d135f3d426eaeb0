// An order's life in the stock domain on the pure runner: placing with channel, prices and
// currency, every transition and every refusal, the pickup hold running out through its timer,
// the order and store topics. Returns, events waiting for a saga, the commerce news and the
// customer's summaries: test/order-returns.test.ts.

import { beforeEach, describe, expect, it } from 'vitest';
import { orderParties, orderView } from '../engine/stock/mod.ts';
import type { PureRunner } from './pure-harness.ts';
import { HOLD, orderWorld, T0, type OrderWorld } from './fixtures/order-world.ts';

let w: OrderWorld;
let r: PureRunner;
let changed: string[];
let apply: OrderWorld['apply'];
let ok: OrderWorld['ok'];
let refused: OrderWorld['refused'];
let row: OrderWorld['row'];
let order: OrderWorld['order'];
let onTopic: OrderWorld['onTopic'];

function receive(sku: string, location: string, qty: number): void {
  ok({ type: 'stock.received', sku, location, qty });
}

/** A pickup order of 2 × A at 500 and 1 × B at 1200 at S1, placed in the app. */
function placePickup(id = 'O1', extra: Record<string, unknown> = {}) {
  return ok({ id: `place-${id}`, ts: T0, type: 'order.placed', order: id, customer: 'c1', channel: 'app', currency: 'EUR', pickup: 'S1', lines: [{ sku: 'A', qty: 2, price: 500 }, { sku: 'B', qty: 1, price: 1200 }], ...extra });
}

beforeEach(() => {
  w = orderWorld();
  ({ r, changed, apply, ok, refused, row, order, onTopic } = w);
  receive('A', 'S1', 5);
  receive('B', 'S1', 5);
  changed.length = 0;
});

describe('placing', () => {
  it('keeps channel, prices and currency, starts the history, tells the pickup store and shows on order/<id>', () => {
    placePickup();
    expect(order('O1')).toEqual({
      order: 'O1',
      status: 'placed',
      customer: 'c1',
      channel: 'app',
      pickup: 'S1',
      lines: [{ sku: 'A', qty: 2, price: 500, returned: 0 }, { sku: 'B', qty: 1, price: 1200, returned: 0 }],
      allocation: [
        { sku: 'A', qty: 2, location: 'S1', reservation: 'order:O1:0' },
        { sku: 'B', qty: 1, location: 'S1', reservation: 'order:O1:1' },
      ],
      currency: 'EUR',
      history: [{ status: 'placed', at: T0, channel: 'app' }],
      returns: [],
    });
    expect(changed).toContain('order/O1');
    expect(onTopic('store/S1')).toEqual([{ type: 'pickup', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }], customer: 'c1', channel: 'app' }]);
    expect(orderParties(r.view, 'O1')).toEqual({ customer: 'c1', pickup: 'S1', locations: ['S1'], status: 'placed' });
  });

  it('refuses a bad channel, price or currency, and lines of one SKU at two prices; merges them at one', () => {
    const lines = [{ sku: 'A', qty: 1 }];
    refused({ type: 'order.placed', order: 'X', pickup: 'S1', lines, channel: 'fax' }, 'invalid_event');
    refused({ type: 'order.placed', order: 'X', pickup: 'S1', lines: [{ sku: 'A', qty: 1, price: -1 }] }, 'invalid_event');
    refused({ type: 'order.placed', order: 'X', pickup: 'S1', lines: [{ sku: 'A', qty: 1, price: 1.5 }] }, 'invalid_event');
    refused({ type: 'order.placed', order: 'X', pickup: 'S1', lines, currency: 'eur' }, 'invalid_event');
    const twoPrices = refused({ type: 'order.placed', order: 'X', pickup: 'S1', lines: [{ sku: 'A', qty: 1, price: 5 }, { sku: 'A', qty: 1, price: 6 }] }, 'invalid_event');
    expect(twoPrices.field).toBe('lines[1].price');
    refused({ type: 'order.placed', order: 'X', pickup: 'S1', lines: [{ sku: 'A', qty: 1_000_000_000, price: 1_000_000_000 }] }, 'invalid_event');
    expect(r.state.get('stock/order/X')).toBeUndefined();
    ok({ type: 'order.placed', order: 'X', pickup: 'S1', lines: [{ sku: 'A', qty: 1, price: 5 }, { sku: 'A', qty: 2, price: 5 }] });
    expect(order('X').lines).toEqual([{ sku: 'A', qty: 3, price: 5, returned: 0 }]);
  });

  it('an order still placing has no view and no parties', () => {
    r.autoDrain = false;
    apply({ type: 'order.placed', order: 'P', pickup: 'S1', lines: [{ sku: 'A', qty: 1 }] });
    expect((r.state.get('stock/order/P') as any).status).toBe('placing');
    expect(order('P')).toBeUndefined();
    expect(orderView(r.view, 'P')).toBeUndefined();
    expect(orderParties(r.view, 'P')).toBeUndefined();
    expect(changed).not.toContain('order/P');
  });
});

describe('pickup', () => {
  it('ready, then picked up: holds sold, completed, the hold timer ended', () => {
    placePickup();
    const ready = ok({ ts: T0 + 10, type: 'order.ready', order: 'O1' });
    expect(ready).toEqual({ ok: true, order: 'O1', status: 'ready', readyUntil: T0 + HOLD });
    expect(order('O1')).toMatchObject({ status: 'ready', readyUntil: T0 + HOLD });
    expect(ok({ ts: T0 + 20, type: 'order.picked_up', order: 'O1' })).toEqual({ ok: true, order: 'O1', status: 'completed' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(row('B', 'S1')).toMatchObject({ onHand: 4, reserved: 0 });
    const view = order('O1');
    expect(view).not.toHaveProperty('readyUntil');
    expect(view.history).toEqual([
      { status: 'placed', at: T0, channel: 'app' },
      { status: 'ready', at: T0 + 10, location: 'S1' },
      { status: 'completed', at: T0 + 20, channel: 'store', location: 'S1' },
    ]);
    expect(r.state.get('stock/res/order:O1:0')).toBeUndefined();
    r.now = T0 + HOLD + 1;
    expect(r.fireDue()).toBe(0);
    expect(order('O1').status).toBe('completed');
  });

  it('uncollected past the hold it expires: holds released, pickup_expired alert, store told', () => {
    placePickup();
    ok({ type: 'order.ready', order: 'O1' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 5, reserved: 2 });
    r.now = T0 + HOLD - 1;
    r.fireDue();
    expect(order('O1').status).toBe('ready');
    changed.length = 0;
    r.now = T0 + HOLD;
    r.fireDue();
    expect(order('O1').status).toBe('expired');
    expect(changed).toContain('order/O1');
    expect(row('A', 'S1')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(row('B', 'S1')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(onTopic('alerts/stock')).toContainEqual({ type: 'pickup_expired', order: 'O1', location: 'S1', customer: 'c1' });
    expect(onTopic('store/S1').at(-1)).toEqual({ type: 'expired', order: 'O1' });
    expect(refused({ type: 'order.picked_up', order: 'O1' }, 'invalid_transition').message).toContain('expired');
    refused({ type: 'order.cancelled', order: 'O1' }, 'invalid_transition');
  });

  it('picked up straight from placed; cancelled from ready releases and ends the timer', () => {
    placePickup();
    ok({ type: 'order.picked_up', order: 'O1' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0 });
    placePickup('O2');
    ok({ type: 'order.ready', order: 'O2' });
    expect(ok({ type: 'order.cancelled', order: 'O2', reason: 'changed my mind' })).toEqual({ ok: true, order: 'O2', status: 'cancelled' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0 });
    r.now = T0 + HOLD;
    // The cancel ended the hold's timer: none is left to fire.
    expect(r.fireDue()).toBe(0);
    expect(order('O2').status).toBe('cancelled');
    expect(onTopic('alerts/stock')).not.toContainEqual(expect.objectContaining({ type: 'pickup_expired' }));
  });

  it('order.fulfilled of a pickup order is its pickup', () => {
    placePickup();
    expect(ok({ type: 'order.fulfilled', order: 'O1' })).toEqual({ ok: true, order: 'O1', status: 'completed' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0 });
  });
});

describe('ship', () => {
  beforeEach(() => receive('C', 'W1', 4));

  it('shipped sells the holds, delivered completes it; order.fulfilled ships', () => {
    ok({ ts: T0, type: 'order.placed', order: 'S', ship: { lat: 50, lon: 8 }, lines: [{ sku: 'C', qty: 2 }] });
    expect(ok({ ts: T0 + 5, type: 'order.shipped', order: 'S', carrier: 'DHL', tracking: 'JD01' })).toEqual({ ok: true, order: 'S', status: 'shipped' });
    expect(row('C', 'W1')).toMatchObject({ onHand: 2, reserved: 0 });
    expect(ok({ ts: T0 + 9, type: 'order.delivered', order: 'S' })).toEqual({ ok: true, order: 'S', status: 'completed' });
    expect(order('S').history.map((h: any) => [h.status, h.at])).toEqual([['placed', T0], ['shipped', T0 + 5], ['completed', T0 + 9]]);
    ok({ type: 'order.placed', order: 'S2', ship: { lat: 50, lon: 8 }, lines: [{ sku: 'C', qty: 1 }] });
    expect(ok({ type: 'order.fulfilled', order: 'S2' })).toEqual({ ok: true, order: 'S2', status: 'shipped' });
    expect(row('C', 'W1')).toMatchObject({ onHand: 1, reserved: 0 });
  });

  it('refuses what the status or kind does not allow, naming the status; an unknown order is unknown_order', () => {
    ok({ type: 'order.placed', order: 'S', ship: { lat: 50, lon: 8 }, lines: [{ sku: 'C', qty: 1 }] });
    placePickup();
    expect(refused({ type: 'order.ready', order: 'S' }, 'invalid_transition').message).toMatch(/'S' is placed \(a ship order\)/);
    refused({ type: 'order.picked_up', order: 'S' }, 'invalid_transition');
    refused({ type: 'order.shipped', order: 'O1' }, 'invalid_transition');
    refused({ type: 'order.delivered', order: 'S' }, 'invalid_transition');
    refused({ type: 'order.returned', order: 'S', return: 'R', location: 'S1', lines: [{ sku: 'C', qty: 1 }] }, 'invalid_transition');
    ok({ type: 'order.shipped', order: 'S' });
    refused({ type: 'order.shipped', order: 'S' }, 'invalid_transition');
    expect(refused({ type: 'order.cancelled', order: 'S' }, 'invalid_transition').message).toContain('shipped');
    ok({ type: 'order.delivered', order: 'S' });
    expect(refused({ type: 'order.cancelled', order: 'S' }, 'invalid_transition').message).toContain('completed');
    refused({ type: 'order.fulfilled', order: 'S' }, 'invalid_transition');
    // Nothing was changed by a refusal.
    expect(row('C', 'W1')).toMatchObject({ onHand: 3, reserved: 0 });
    for (const type of ['order.ready', 'order.picked_up', 'order.shipped', 'order.delivered', 'order.fulfilled', 'order.cancelled']) {
      refused({ type, order: 'NEVER' }, 'unknown_order');
    }
    refused({ type: 'order.returned', order: 'NEVER', return: 'R', location: 'S1', lines: [{ sku: 'C', qty: 1 }] }, 'unknown_order');
  });
});
