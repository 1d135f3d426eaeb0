// Returns anywhere on the pure runner: restocked at the return's store whatever stores the order
// came from, answered once every line is back, all or nothing, within the window, refunded when
// priced; order events waiting while a saga of the order is under way; the commerce news each
// sent once; the customer's order summaries following the order's status.

import { beforeEach, describe, expect, it } from 'vitest';
import { customerProcessor } from '../engine/customers/mod.ts';
import { orderParties, orderView } from '../engine/stock/mod.ts';
import type { PureRunner } from './pure-harness.ts';
import { HOLD, orderWorld, T0, WINDOW, type OrderWorld } from './fixtures/order-world.ts';

let w: OrderWorld;
let r: PureRunner;

const receive = (sku: string, location: string, qty: number) => w.ok({ type: 'stock.received', sku, location, qty });
const total = (sku: string) => (r.render(`stock/${sku}`) as { onHand: number; reserved: number }) ?? { onHand: 0, reserved: 0 };

/** A pickup order at S1: 2 × A at 500, 1 × B at 1200 (unpriced: null), placed in `channel`. */
function placePickup(id: string, channel = 'app', priceB: number | null = 1200) {
  return w.ok({ ts: T0, type: 'order.placed', order: id, customer: 'c1', channel, pickup: 'S1', lines: [{ sku: 'A', qty: 2, price: 500 }, { sku: 'B', qty: 1, ...(priceB !== null ? { price: priceB } : {}) }] });
}

beforeEach(() => {
  w = orderWorld();
  r = w.r;
  receive('A', 'S1', 5);
  receive('B', 'S1', 5);
});

describe('a return at a store the order never touched', () => {
  it('restocks all three lines there, answers once every line is back, with the refund', () => {
    // A only at S1, B and C only at S2: the ship order is sourced from both.
    w.ok({ type: 'stock.adjusted', sku: 'B', location: 'S1', onHand: 0 });
    receive('B', 'S2', 4);
    receive('C', 'S2', 6);
    const placed = w.ok({ ts: T0, type: 'order.placed', order: 'O', channel: 'web', ship: { lat: 50, lon: 10 }, lines: [{ sku: 'A', qty: 2, price: 500 }, { sku: 'B', qty: 1, price: 1200 }, { sku: 'C', qty: 3, price: 300 }] });
    expect(new Set(placed.allocation.map((a: { location: string }) => a.location))).toEqual(new Set(['S1', 'S2']));
    w.ok({ ts: T0 + 100, type: 'order.shipped', order: 'O' });
    const before = { A: total('A').onHand, B: total('B').onHand, C: total('C').onHand };

    r.autoDrain = false;
    const lines = [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }, { sku: 'C', qty: 3 }];
    expect(w.apply({ id: 'ret', ts: T0 + 200, type: 'order.returned', order: 'O', return: 'R1', location: 'S3', channel: 'store', lines })).toMatchObject({ ok: true, pending: true });
    let restocked = 0;
    while (r.queue.length > 0) {
      const next = r.queue[0];
      r.step();
      if (next.type === 'order.restocked') restocked++;
      // Answered with the last line back, not before.
      expect(r.answers.has('ret')).toBe(restocked === 3);
    }
    expect(r.answers.get('ret')).toEqual({ ok: true, order: 'O', status: 'returned', return: 'R1', refund: 2 * 500 + 1200 + 3 * 300 });

    for (const l of lines) expect(w.row(l.sku, 'S3')).toMatchObject({ onHand: l.qty, reserved: 0 });
    expect(w.row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(w.row('B', 'S2')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(w.row('C', 'S2')).toMatchObject({ onHand: 3, reserved: 0 });
    expect({ A: total('A').onHand, B: total('B').onHand, C: total('C').onHand }).toEqual({ A: before.A + 2, B: before.B + 1, C: before.C + 3 });
    expect({ A: total('A').onHand, B: total('B').onHand, C: total('C').onHand }).toEqual({ A: 5, B: 4, C: 6 });

    const view = w.order('O');
    expect(view).toEqual(orderView(r.view, 'O'));
    expect(view.status).toBe('returned');
    expect(view.lines.map((l: { returned: number; qty: number }) => l.returned === l.qty)).toEqual([true, true, true]);
    expect(view.returns).toEqual([{ return: 'R1', lines, location: 'S3', channel: 'store', refund: 2 * 500 + 1200 + 3 * 300 }]);
    expect(view.history.at(-1)).toEqual({ status: 'returned', at: T0 + 200, channel: 'store', location: 'S3' });
    expect(w.onTopic('store/S3')).toEqual([{ type: 'return', order: 'O', return: 'R1', lines }]);
    expect(new Set(orderParties(r.view, 'O')!.locations)).toEqual(new Set(['S1', 'S2', 'S3']));
    // Once per change it shows (placed, shipped, returned): the steps that only end a saga send nothing.
    expect(w.changed.filter((t) => t === 'order/O').length).toBe(3);
  });
});

describe('return rules', () => {
  beforeEach(() => {
    placePickup('O1');
    w.ok({ ts: T0 + 10, type: 'order.picked_up', order: 'O1' });
  });
  const ret = (ret: string, lines: Array<{ sku: string; qty: number }>, extra: Record<string, unknown> = {}) => ({ ts: T0 + 20, type: 'order.returned', order: 'O1', return: ret, location: 'S2', lines, ...extra });

  it('each line at most what is left of it, ids once per order, declared locations; refusals change nothing', () => {
    expect(w.ok(ret('R1', [{ sku: 'A', qty: 1 }]))).toEqual({ ok: true, order: 'O1', status: 'partially_returned', return: 'R1', refund: 500 });
    w.refused(ret('R1', [{ sku: 'B', qty: 1 }]), 'conflict');
    expect(w.refused(ret('R2', [{ sku: 'A', qty: 2 }]), 'return_exceeds_order').message).toContain('1 of it left');
    w.refused(ret('R2', [{ sku: 'A', qty: 1 }, { sku: 'A', qty: 1 }]), 'return_exceeds_order');
    w.refused(ret('R2', [{ sku: 'Z', qty: 1 }]), 'return_exceeds_order');
    w.refused(ret('R2', [{ sku: 'B', qty: 1 }], { location: 'NOWHERE' }), 'unknown_location');
    w.refused(ret('R2', [{ sku: 'B', qty: 1 }], { channel: 'post' }), 'invalid_event');
    expect(w.row('A', 'S2')).toMatchObject({ onHand: 1 });
    expect(r.render('stock/B@S2')).toBeUndefined();
    expect(w.order('O1').returns).toHaveLength(1);
    expect(w.ok(ret('R2', [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }]))).toEqual({ ok: true, order: 'O1', status: 'returned', return: 'R2', refund: 1700 });
    expect(w.order('O1').lines).toEqual([{ sku: 'A', qty: 2, price: 500, returned: 2 }, { sku: 'B', qty: 1, price: 1200, returned: 1 }]);
    expect(w.refused(ret('R3', [{ sku: 'A', qty: 1 }]), 'invalid_transition').message).toContain('returned');
  });

  it('within the window from completed, by event time', () => {
    w.refused(ret('R1', [{ sku: 'A', qty: 1 }], { ts: T0 + 10 + WINDOW + 1 }), 'return_window_passed');
    w.ok(ret('R1', [{ sku: 'A', qty: 1 }], { ts: T0 + 10 + WINDOW }));
  });

  it('a ship order’s window runs from its shipping, delivered or not', () => {
    receive('C', 'W1', 2);
    w.ok({ ts: T0, type: 'order.placed', order: 'S', ship: { lat: 50, lon: 8 }, lines: [{ sku: 'C', qty: 2 }] });
    w.ok({ ts: T0 + 5, type: 'order.shipped', order: 'S' });
    w.ok({ ts: T0 + WINDOW, type: 'order.delivered', order: 'S' });
    w.refused({ ts: T0 + 5 + WINDOW + 1, type: 'order.returned', order: 'S', return: 'R', location: 'S1', lines: [{ sku: 'C', qty: 1 }] }, 'return_window_passed');
    // Unpriced: no refund.
    expect(w.ok({ ts: T0 + 5 + WINDOW, type: 'order.returned', order: 'S', return: 'R', location: 'S1', lines: [{ sku: 'C', qty: 1 }] })).toEqual({ ok: true, order: 'S', status: 'partially_returned', return: 'R' });
  });

  it('a refund only when every returned line has a price', () => {
    placePickup('O2', 'app', null);
    w.ok({ type: 'order.picked_up', order: 'O2' });
    const both = w.ok({ type: 'order.returned', order: 'O2', return: 'R', location: 'S1', lines: [{ sku: 'A', qty: 1 }, { sku: 'B', qty: 1 }] });
    expect(both).not.toHaveProperty('refund');
    expect(w.order('O2').returns[0]).not.toHaveProperty('refund');
    expect(w.ok({ type: 'order.returned', order: 'O2', return: 'R2', location: 'S1', lines: [{ sku: 'A', qty: 1 }] }).refund).toBe(500);
  });
});

describe('order events while a saga of the order is under way', () => {
  it('sent while placing: done in the order they came once it is placed, answered as if after', () => {
    r.autoDrain = false;
    w.apply({ id: 'place', ts: T0, type: 'order.placed', order: 'O1', pickup: 'S1', lines: [{ sku: 'A', qty: 1 }] });
    expect(w.apply({ id: 'ready', ts: T0 + 1, type: 'order.ready', order: 'O1' })).toMatchObject({ pending: true });
    expect(w.apply({ id: 'up', ts: T0 + 2, type: 'order.picked_up', order: 'O1' })).toMatchObject({ pending: true });
    expect(w.apply({ id: 'ship', ts: T0 + 3, type: 'order.shipped', order: 'O1' })).toMatchObject({ pending: true });
    r.drain();
    expect(r.answers.get('ready')).toEqual({ ok: true, order: 'O1', status: 'ready', readyUntil: T0 + HOLD });
    expect(r.answers.get('up')).toEqual({ ok: true, order: 'O1', status: 'completed' });
    expect(r.answers.get('ship')).toMatchObject({ ok: false, error: { code: 'invalid_transition' } });
    expect(w.row('A', 'S1')).toMatchObject({ onHand: 4, reserved: 0 });
    expect(w.order('O1').history.map((h: { status: string; at: number }) => [h.status, h.at])).toEqual([['placed', T0], ['ready', T0 + 1], ['completed', T0 + 2]]);
    expect(r.state.get('stock/order/O1')).not.toHaveProperty('saga');
  });

  it('readied and picked up (or cancelled) in one step: no hold timer is left behind', () => {
    r.autoDrain = false;
    for (const [id, end] of [['O1', 'order.picked_up'], ['O2', 'order.cancelled']]) {
      w.apply({ type: 'order.placed', order: id, pickup: 'S1', lines: [{ sku: 'A', qty: 1 }] });
      w.apply({ type: 'order.ready', order: id });
      w.apply({ type: end, order: id });
    }
    r.drain();
    expect([...r.timers.keys()]).toEqual([]);
    expect([w.order('O1').status, w.order('O2').status]).toEqual(['completed', 'cancelled']);
    expect(w.row('A', 'S1')).toMatchObject({ onHand: 4, reserved: 0 });
  });

  it('sent while a placing is refused: unknown_order', () => {
    r.autoDrain = false;
    w.apply({ id: 'place', type: 'order.placed', order: 'O1', pickup: 'S1', lines: [{ sku: 'A', qty: 99 }] });
    w.apply({ id: 'ready', type: 'order.ready', order: 'O1' });
    r.drain();
    expect(r.answers.get('place')).toMatchObject({ ok: false, error: { code: 'insufficient_stock' } });
    expect(r.answers.get('ready')).toMatchObject({ ok: false, error: { code: 'unknown_order' } });
  });

  it('a second placing of the order id while the first is placing waits for it: placed once the first is refused, a conflict once it is placed', () => {
    r.autoDrain = false;
    w.apply({ id: 'place1', ts: T0, type: 'order.placed', order: 'O1', pickup: 'S1', lines: [{ sku: 'A', qty: 99 }] });
    expect(w.apply({ id: 'place2', ts: T0 + 1, type: 'order.placed', order: 'O1', customer: 'c1', pickup: 'S1', lines: [{ sku: 'A', qty: 2 }] })).toMatchObject({ pending: true });
    w.apply({ id: 'ready', ts: T0 + 2, type: 'order.ready', order: 'O1' });
    w.apply({ id: 'place3', ts: T0 + 3, type: 'order.placed', order: 'O1', pickup: 'S1', lines: [{ sku: 'A', qty: 1 }] });
    r.drain();
    expect(r.answers.get('place1')).toMatchObject({ ok: false, error: { code: 'insufficient_stock' } });
    expect(r.answers.get('place2')).toMatchObject({ ok: true, order: 'O1', allocation: [{ sku: 'A', qty: 2, location: 'S1' }] });
    expect(r.answers.get('ready')).toMatchObject({ ok: true, status: 'ready' });
    expect(r.answers.get('place3')).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(w.order('O1')).toMatchObject({ status: 'ready', customer: 'c1', history: [{ status: 'placed', at: T0 + 1 }, { status: 'ready', at: T0 + 2 }] });
    expect(w.row('A', 'S1')).toMatchObject({ onHand: 5, reserved: 2 });
    expect(r.state.get('stock/order/O1')).not.toHaveProperty('saga');
  });

  it('a customer forgotten while a placing waits for another keeps its customer out of the placed order', () => {
    w = orderWorld([customerProcessor()]);
    r = w.r;
    receive('A', 'S1', 5);
    r.autoDrain = false;
    w.apply({ id: 'place1', type: 'order.placed', order: 'O1', customer: 'c1', pickup: 'S1', lines: [{ sku: 'A', qty: 99 }] });
    w.apply({ id: 'place2', type: 'order.placed', order: 'O1', customer: 'c1', pickup: 'S1', lines: [{ sku: 'A', qty: 1 }] });
    r.applyValid({ id: 'forget', type: 'order.forget', order: 'O1', erasure: 'E1' });
    r.drain();
    expect(r.answers.get('place2')).toMatchObject({ ok: true, order: 'O1' });
    expect(w.order('O1')).not.toHaveProperty('customer');
    expect(JSON.stringify(r.state.get('stock/order/O1'))).not.toContain('c1');
  });

  it('sent while holds end or goods are restocked: done after, each answered once', () => {
    receive('C', 'W1', 3);
    w.ok({ type: 'order.placed', order: 'S', ship: { lat: 50, lon: 8 }, lines: [{ sku: 'C', qty: 2 }] });
    r.autoDrain = false;
    w.apply({ id: 'ship', type: 'order.shipped', order: 'S' });
    w.apply({ id: 'deliver', type: 'order.delivered', order: 'S' });
    w.apply({ id: 'ret1', type: 'order.returned', order: 'S', return: 'R1', location: 'S2', lines: [{ sku: 'C', qty: 1 }] });
    w.apply({ id: 'ret2', type: 'order.returned', order: 'S', return: 'R2', location: 'S3', lines: [{ sku: 'C', qty: 1 }] });
    w.apply({ id: 'ret3', type: 'order.returned', order: 'S', return: 'R3', location: 'S3', lines: [{ sku: 'C', qty: 1 }] });
    r.drain();
    expect(r.answers.get('ship')).toEqual({ ok: true, order: 'S', status: 'shipped' });
    expect(r.answers.get('deliver')).toEqual({ ok: true, order: 'S', status: 'completed' });
    expect(r.answers.get('ret1')).toEqual({ ok: true, order: 'S', status: 'partially_returned', return: 'R1' });
    expect(r.answers.get('ret2')).toEqual({ ok: true, order: 'S', status: 'returned', return: 'R2' });
    expect(r.answers.get('ret3')).toMatchObject({ ok: false, error: { code: 'invalid_transition' } });
    expect(w.row('C', 'W1')).toMatchObject({ onHand: 1, reserved: 0 });
    expect(w.row('C', 'S2')).toMatchObject({ onHand: 1 });
    expect(w.row('C', 'S3')).toMatchObject({ onHand: 1 });
    expect(r.state.get('stock/order/S')).not.toHaveProperty('saga');
  });
});

describe('commerce news', () => {
  const kinds = () => w.counted.map((c) => `${c.order}:${c.kind}`);

  it('placed (with revenue), fulfilled and cross once each; a return elsewhere is returned', () => {
    placePickup('O1', 'app');
    w.ok({ ts: T0 + 10, type: 'order.picked_up', order: 'O1' });
    w.ok({ ts: T0 + 20, type: 'order.returned', order: 'O1', return: 'R1', location: 'S2', lines: [{ sku: 'A', qty: 1 }] });
    w.ok({ ts: T0 + 30, type: 'order.returned', order: 'O1', return: 'R2', location: 'S3', lines: [{ sku: 'A', qty: 1 }] });
    expect(kinds()).toEqual(['O1:placed', 'O1:fulfilled', 'O1:cross', 'O1:returned']);
    expect(w.counted[0]).toMatchObject({ type: 'commerce.counted', order: 'O1', kind: 'placed', placedAt: T0, channel: 'app', location: 'S1', pickup: true, revenue: 2200, at: T0 });
    expect(w.counted[3]).toMatchObject({ kind: 'returned', at: T0 + 20, placedAt: T0 });
    expect(w.counted[3]).not.toHaveProperty('revenue');
    expect(new Set(w.counted.map((c) => c.id)).size).toBe(4);
  });

  it('a store order picked up at its store does not cross; a return at another store does', () => {
    placePickup('O1', 'store', null);
    w.ok({ type: 'order.picked_up', order: 'O1' });
    w.ok({ type: 'order.returned', order: 'O1', return: 'R1', location: 'S1', lines: [{ sku: 'B', qty: 1 }] });
    expect(kinds()).toEqual(['O1:placed', 'O1:fulfilled', 'O1:returned']);
    expect(w.counted[0]).not.toHaveProperty('revenue');
    w.ok({ type: 'order.returned', order: 'O1', return: 'R2', location: 'S2', lines: [{ sku: 'A', qty: 1 }] });
    expect(kinds().at(-1)).toBe('O1:cross');
  });

  it('cancelled and expired', () => {
    placePickup('O1');
    w.ok({ type: 'order.cancelled', order: 'O1' });
    placePickup('O2');
    w.ok({ type: 'order.ready', order: 'O2' });
    r.now = T0 + HOLD;
    r.fireDue();
    expect(kinds()).toEqual(['O1:placed', 'O1:cancelled', 'O2:placed', 'O2:expired']);
    expect(w.counted.at(-1)).toMatchObject({ kind: 'expired', channel: 'app', location: 'S1', pickup: true });
  });
});

describe('the customer’s order summaries', () => {
  it('follow the order’s status, its expiry too', () => {
    w = orderWorld([customerProcessor()]);
    r = w.r;
    receive('A', 'S1', 5);
    receive('B', 'S1', 5);
    const status = () => (r.state.get('cu/orders/c1') as Array<{ order: string; status: string }>).find((o) => o.order === 'O1')?.status;
    placePickup('O1');
    expect(status()).toBe('placed');
    w.ok({ type: 'order.ready', order: 'O1' });
    expect(status()).toBe('ready');
    w.ok({ type: 'order.picked_up', order: 'O1' });
    expect(status()).toBe('completed');
    w.ok({ type: 'order.returned', order: 'O1', return: 'R', location: 'S2', lines: [{ sku: 'A', qty: 1 }] });
    expect(status()).toBe('partially_returned');
    // An expiry is the hold's timer, not an event: the summary follows it too.
    placePickup('O2');
    w.ok({ type: 'order.ready', order: 'O2' });
    r.now = T0 + HOLD;
    r.fireDue();
    expect((r.state.get('cu/orders/c1') as Array<{ order: string; status: string }>).find((o) => o.order === 'O2')?.status).toBe('expired');
  });
});
