import { beforeEach, describe, expect, it } from 'vitest';
import { stockProcessor } from '../engine/stock/mod.ts';
import { PureRunner } from './pure-harness.ts';

let r: PureRunner;

const loc = (location: string, kind: 'store' | 'warehouse', lat: number, lon: number, extra = {}) =>
  r.apply({ type: 'location.upserted', location, kind, lat, lon, ...extra });
const receive = (sku: string, location: string, qty: number) => r.apply({ type: 'stock.received', sku, location, qty });
const row = (sku: string, location: string) => r.render(`stock/${sku}@${location}`);
const code = (e: { result: any }) => (e.result.ok ? 'ok' : e.result.error.code);

/** Applies an event that must be rejected with `expected`, and proves nothing changed. */
function rejects(event: Record<string, unknown>, expected: string) {
  const before = r.dump();
  const effects = r.apply(event as any);
  expect(code(effects)).toBe(expected);
  expect(r.dump()).toBe(before);
  return effects;
}

beforeEach(() => {
  r = new PureRunner(stockProcessor({ lowStockThreshold: 5, defaultTtlMs: 60_000 }));
  loc('S1', 'store', 52.52, 13.405); // Berlin
  loc('S2', 'store', 48.137, 11.575); // Munich
  loc('W1', 'warehouse', 50.11, 8.682); // Frankfurt
  r.messages.length = 0;
});

describe('locations', () => {
  it('declares and updates a location', () => {
    expect(code(loc('S3', 'store', 1, 2, { name: 'Mitte', lowStock: 2 }))).toBe('ok');
    expect(r.state.get('stock/loc/S3')).toEqual({ id: 'S3', kind: 'store', lat: 1, lon: 2, name: 'Mitte', lowStock: 2 });
    loc('S3', 'warehouse', 3, 4);
    expect(r.state.get('stock/loc/S3')).toMatchObject({ kind: 'warehouse', lat: 3, lon: 4 });
  });

  it('lists every declared location by id through the locations query, re-declared ones once with their newest fields', () => {
    const list = () => r.processor.query!(r.view, 'locations', {}) as Array<{ id: string; name?: string }>;
    expect(list().map((l) => l.id)).toEqual(['S1', 'S2', 'W1']);
    loc('A0', 'store', 1, 2, { name: 'Alex' });
    loc('S1', 'store', 52.52, 13.405, { name: 'Berlin Mitte' });
    expect(r.state.get('stock/locations')).toEqual(['S1', 'S2', 'W1', 'A0']);
    // Each with the low-stock threshold that applies there: its own, else the processor's (5).
    loc('W1', 'warehouse', 50.11, 8.682, { lowStock: 20 });
    expect(list()).toEqual([
      { id: 'A0', kind: 'store', lat: 1, lon: 2, name: 'Alex', lowStock: 5 },
      { id: 'S1', kind: 'store', lat: 52.52, lon: 13.405, name: 'Berlin Mitte', lowStock: 5 },
      { id: 'S2', kind: 'store', lat: 48.137, lon: 11.575, lowStock: 5 },
      { id: 'W1', kind: 'warehouse', lat: 50.11, lon: 8.682, lowStock: 20 },
    ]);
    expect(r.processor.query!(r.view, 'other', {})).toBeUndefined();
  });

  it('adds a location declared before the index existed once it is declared again', () => {
    // A data dir from before the index: location records, no list of them.
    r.state.delete('stock/locations');
    r.state.set('stock/loc/OLD', { id: 'OLD', kind: 'store', lat: 0, lon: 0 });
    expect(r.processor.query!(r.view, 'locations', {})).toEqual([]);
    loc('OLD', 'store', 0, 0, { name: 'Old town' });
    expect(r.processor.query!(r.view, 'locations', {})).toEqual([{ id: 'OLD', kind: 'store', lat: 0, lon: 0, name: 'Old town', lowStock: 5 }]);
  });

  it('rejects bad locations', () => {
    rejects({ type: 'location.upserted', location: 'X', kind: 'shop', lat: 0, lon: 0 }, 'invalid_event');
    rejects({ type: 'location.upserted', location: 'X', kind: 'store', lat: 91, lon: 0 }, 'invalid_event');
    rejects({ type: 'location.upserted', location: 'X', kind: 'store', lat: 0, lon: '1' }, 'invalid_event');
    rejects({ type: 'location.upserted', location: 'a@b', kind: 'store', lat: 0, lon: 0 }, 'invalid_event');
    rejects({ type: 'location.upserted', kind: 'store', lat: 0, lon: 0 }, 'invalid_event');
  });
});

describe('on-hand events', () => {
  it('received and returned add to onHand', () => {
    receive('A', 'S1', 10);
    r.apply({ type: 'stock.returned', sku: 'A', location: 'S1', qty: 2, channel: 'web' });
    expect(row('A', 'S1')).toEqual({ sku: 'A', location: 'S1', onHand: 12, reserved: 0, safety: 0, available: 12 });
  });

  it('adjusted sets onHand and safety holds stock back from sale', () => {
    receive('A', 'S1', 10);
    r.apply({ type: 'stock.adjusted', sku: 'A', location: 'S1', onHand: 7 });
    r.apply({ type: 'stock.safety', sku: 'A', location: 'S1', safety: 3 });
    expect(row('A', 'S1')).toMatchObject({ onHand: 7, safety: 3, available: 4 });
    r.apply({ type: 'stock.safety', sku: 'A', location: 'S1', safety: 20 });
    expect(row('A', 'S1').available).toBe(0);
  });

  it('a counter sale always applies and raises a discrepancy below zero', () => {
    receive('A', 'S1', 1);
    r.messages.length = 0;
    expect(code(r.apply({ type: 'stock.sold', sku: 'A', location: 'S1', qty: 3, channel: 'store' }))).toBe('ok');
    expect(row('A', 'S1')).toMatchObject({ onHand: -2, available: 0 });
    expect(r.messages).toContainEqual({
      topic: 'alerts/stock',
      data: { type: 'discrepancy', sku: 'A', location: 'S1', onHand: -2, qty: 3, channel: 'store' },
    });
  });

  it('rejects stock events at undeclared locations and bad quantities', () => {
    rejects({ type: 'stock.received', sku: 'A', location: 'NOPE', qty: 1 }, 'unknown_location');
    rejects({ type: 'stock.sold', sku: 'A', location: 'NOPE', qty: 1 }, 'unknown_location');
    rejects({ type: 'stock.adjusted', sku: 'A', location: 'NOPE', onHand: 1 }, 'unknown_location');
    rejects({ type: 'stock.safety', sku: 'A', location: 'NOPE', safety: 1 }, 'unknown_location');
    rejects({ type: 'stock.returned', sku: 'A', location: 'NOPE', qty: 1 }, 'unknown_location');
    for (const qty of [0, -1, 1.5, '1', null, 2 ** 60, Number.NaN]) {
      rejects({ type: 'stock.received', sku: 'A', location: 'S1', qty }, 'invalid_event');
    }
    rejects({ type: 'stock.adjusted', sku: 'A', location: 'S1', onHand: -1 }, 'invalid_event');
    rejects({ type: 'stock.safety', sku: 'A', location: 'S1', safety: 0.5 }, 'invalid_event');
    rejects({ type: 'stock.received', sku: 'A@B', location: 'S1', qty: 1 }, 'invalid_event');
    rejects({ type: 'stock.received', location: 'S1', qty: 1 }, 'invalid_event');
  });
});

describe('low-stock alerts', () => {
  it('fire when available falls to or below the threshold, once per crossing', () => {
    receive('A', 'S1', 10);
    r.messages.length = 0;
    r.apply({ type: 'stock.sold', sku: 'A', location: 'S1', qty: 4 }); // 6: above
    expect(r.messages).toHaveLength(0);
    r.apply({ type: 'stock.sold', sku: 'A', location: 'S1', qty: 1 }); // 5: at threshold
    r.apply({ type: 'stock.sold', sku: 'A', location: 'S1', qty: 1 }); // 4: still low, no repeat
    expect(r.messages).toEqual([
      { topic: 'alerts/stock', data: { type: 'low_stock', sku: 'A', location: 'S1', available: 5, threshold: 5 } },
    ]);
    receive('A', 'S1', 10);
    r.apply({ type: 'stock.sold', sku: 'A', location: 'S1', qty: 9 });
    expect(r.messages).toHaveLength(2);
  });

  it('use the location threshold when it sets one', () => {
    loc('S9', 'store', 0, 0, { lowStock: 1 });
    receive('A', 'S9', 10);
    r.messages.length = 0;
    r.apply({ type: 'stock.sold', sku: 'A', location: 'S9', qty: 8 });
    expect(r.messages).toHaveLength(0);
    r.apply({ type: 'stock.sold', sku: 'A', location: 'S9', qty: 1 });
    expect(r.messages[0].data).toMatchObject({ type: 'low_stock', available: 1, threshold: 1 });
  });
});

describe('reservations', () => {
  beforeEach(() => {
    receive('A', 'S1', 10);
    receive('A', 'W1', 30);
  });

  it('holds stock at the named location until it expires on the clock', () => {
    const e = r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 4, location: 'S1', ttlMs: 1000 });
    expect(e.result).toEqual({ ok: true, reservation: 'R1', location: 'S1', expiresAt: r.now + 1000 });
    expect(row('A', 'S1')).toMatchObject({ onHand: 10, reserved: 4, available: 6 });
    r.now += 999;
    expect(r.fireDue()).toBe(0);
    r.now += 1;
    expect(r.fireDue()).toBe(1);
    expect(row('A', 'S1')).toMatchObject({ reserved: 0, available: 10 });
    expect(r.state.has('stock/res/R1')).toBe(false);
  });

  it('treats optional fields sent as null as absent', () => {
    const e = r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 5, location: null, channel: null });
    expect(e.result).toMatchObject({ ok: true, location: 'W1' });
    const o = r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1', ship: null, customer: null });
    expect(code(o)).toBe('ok');
    expect(code(loc('S5', 'store', 0, 0, { name: null, lowStock: null }))).toBe('ok');
    expect(r.state.get('stock/loc/S5')).toEqual({ id: 'S5', kind: 'store', lat: 0, lon: 0 });
  });

  it('an expired hold cannot be committed, and its id can be reserved again before its timer runs', () => {
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 4, location: 'S1', ttlMs: 100 });
    r.now += 100; // due, but the timer has not run (it may be queued behind other events)
    rejects({ type: 'stock.commit', reservation: 'R1' }, 'unknown_reservation');
    expect(code(r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 3, location: 'S1', ttlMs: 100 }))).toBe('ok');
    expect(row('A', 'S1')).toMatchObject({ reserved: 3, available: 7 });
    expect(r.fireDue()).toBe(0); // the old expiry was replaced
    r.now += 100;
    expect(r.fireDue()).toBe(1);
    expect(row('A', 'S1')).toMatchObject({ reserved: 0, available: 10 });
  });

  it('uses the default TTL', () => {
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, location: 'S1' });
    expect(r.timers.get('res/R1')?.at).toBe(r.now + 60_000);
  });

  it('without a location picks the one with the most available', () => {
    const e = r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 5 });
    expect(e.result).toMatchObject({ ok: true, location: 'W1' });
    rejects({ type: 'stock.reserve', reservation: 'R2', sku: 'A', qty: 26 }, 'insufficient_stock');
    rejects({ type: 'stock.reserve', reservation: 'R2', sku: 'NEVER', qty: 1 }, 'insufficient_stock');
  });

  it('rejects what cannot be held', () => {
    rejects({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 11, location: 'S1' }, 'insufficient_stock');
    rejects({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, location: 'NOPE' }, 'unknown_location');
    rejects({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 0, location: 'S1' }, 'invalid_event');
    rejects({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, ttlMs: -5 }, 'invalid_event');
    rejects({ type: 'stock.reserve', sku: 'A', qty: 1 }, 'invalid_event');
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, location: 'S1' });
    rejects({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, location: 'S1' }, 'conflict');
  });

  it('safety stock is not reservable', () => {
    r.apply({ type: 'stock.safety', sku: 'A', location: 'S1', safety: 8 });
    rejects({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 3, location: 'S1' }, 'insufficient_stock');
    expect(code(r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 2, location: 'S1' }))).toBe('ok');
  });

  it('release frees the hold and cancels its expiry', () => {
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 4, location: 'S1' });
    expect(r.apply({ type: 'stock.release', reservation: 'R1' }).result).toEqual({ ok: true, reservation: 'R1' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 10, reserved: 0 });
    expect(r.timers.size).toBe(0);
    rejects({ type: 'stock.release', reservation: 'R1' }, 'unknown_reservation');
  });

  it('commit sells the held goods', () => {
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 4, location: 'S1' });
    expect(code(r.apply({ type: 'stock.commit', reservation: 'R1' }))).toBe('ok');
    expect(row('A', 'S1')).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
    rejects({ type: 'stock.commit', reservation: 'R1' }, 'unknown_reservation');
    rejects({ type: 'stock.commit', reservation: 'NEVER' }, 'unknown_reservation');
    // an expiry timer left over for a committed reservation does nothing
    r.now += 10 ** 9;
    expect(r.fireDue()).toBe(0);
  });

  it("a stale timer cannot release a newer reservation with the same id", () => {
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, location: 'S1', ttlMs: 100 });
    const stale = r.timers.get('res/R1')!;
    r.apply({ type: 'stock.release', reservation: 'R1' });
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 2, location: 'S1', ttlMs: 5000 });
    const effects = r.processor.onTimer(r.view, stale, { now: r.now + 100, eventTime: r.now + 100 });
    expect(effects).toEqual({});
  });
});

describe('transfers', () => {
  it('move available stock between locations', () => {
    receive('A', 'W1', 10);
    expect(r.apply({ type: 'stock.transfer', transfer: 'T1', sku: 'A', from: 'W1', to: 'S1', qty: 4 }).result).toEqual({
      ok: true,
      transfer: 'T1',
    });
    expect(row('A', 'W1').onHand).toBe(6);
    expect(row('A', 'S1').onHand).toBe(4);
    expect(r.render('stock/A')).toMatchObject({ onHand: 10, available: 10 });
  });

  it('reject what the source lacks, unknown places and a move to itself', () => {
    receive('A', 'W1', 10);
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 8, location: 'W1' });
    rejects({ type: 'stock.transfer', transfer: 'T1', sku: 'A', from: 'W1', to: 'S1', qty: 3 }, 'insufficient_stock');
    rejects({ type: 'stock.transfer', transfer: 'T1', sku: 'A', from: 'X', to: 'S1', qty: 1 }, 'unknown_location');
    rejects({ type: 'stock.transfer', transfer: 'T1', sku: 'A', from: 'W1', to: 'X', qty: 1 }, 'unknown_location');
    rejects({ type: 'stock.transfer', transfer: 'T1', sku: 'A', from: 'W1', to: 'W1', qty: 1 }, 'invalid_event');
  });
});

describe('orders', () => {
  beforeEach(() => {
    receive('A', 'S1', 5);
    receive('B', 'S1', 5);
    receive('A', 'S2', 20);
    receive('B', 'S2', 1);
    receive('A', 'W1', 100);
    receive('B', 'W1', 100);
  });

  it('pickup reserves every line at the store', () => {
    const e = r.apply({ type: 'order.placed', order: 'O1', customer: 'c1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 3 }], pickup: 'S1' });
    expect(e.result).toEqual({
      ok: true,
      order: 'O1',
      allocation: [
        { sku: 'A', qty: 2, location: 'S1', reservation: 'order:O1:0' },
        { sku: 'B', qty: 3, location: 'S1', reservation: 'order:O1:1' },
      ],
    });
    expect(row('A', 'S1').reserved).toBe(2);
    expect(r.timers.size).toBe(0); // an order's holds wait for fulfilment, not a clock
  });

  it('is all or nothing', () => {
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 6 }], pickup: 'S1' }, 'insufficient_stock');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 3 }, { sku: 'A', qty: 3 }], pickup: 'S1' }, 'insufficient_stock');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 500 }], ship: { lat: 0, lon: 0 } }, 'insufficient_stock');
  });

  it('rejects malformed orders', () => {
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'W1' }, 'invalid_event');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'NOPE' }, 'unknown_location');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1', ship: { lat: 0, lon: 0 } }, 'invalid_event');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }] }, 'invalid_event');
    rejects({ type: 'order.placed', order: 'O1', lines: [], pickup: 'S1' }, 'invalid_event');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: -1 }], pickup: 'S1' }, 'invalid_event');
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], ship: { lat: 100, lon: 0 } }, 'invalid_event');
    r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' });
    rejects({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' }, 'conflict');
  });

  it('ship prefers one location over a nearer split, then the nearest', () => {
    // Near Berlin: S1 has 5 A, W1 (Frankfurt) has 100, S2 (Munich) 20. 10 A fit in one place: S2 or W1;
    // W1 is nearer to Berlin than Munich is.
    const e = r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 10 }], ship: { lat: 52.5, lon: 13.4 } });
    expect((e.result as any).allocation).toEqual([{ sku: 'A', qty: 10, location: 'W1', reservation: 'order:O1:0' }]);
    // 3 A fit in the Berlin store itself
    const e2 = r.apply({ type: 'order.placed', order: 'O2', lines: [{ sku: 'A', qty: 3 }], ship: { lat: 52.5, lon: 13.4 } });
    expect((e2.result as any).allocation).toEqual([{ sku: 'A', qty: 3, location: 'S1', reservation: 'order:O2:0' }]);
  });

  it('ship splits across the fewest locations when no single one can cover it', () => {
    const e = r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 110 }], ship: { lat: 48.1, lon: 11.5 } });
    const alloc = (e.result as any).allocation;
    expect(alloc.map((a: any) => a.location)).toEqual(['S2', 'W1']); // Munich first (nearest), then Frankfurt
    expect(alloc.reduce((s: number, a: any) => s + a.qty, 0)).toBe(110);
    expect(row('A', 'S2').reserved).toBe(20);
    expect(row('A', 'W1').reserved).toBe(90);
  });

  it('fulfil commits and cancel releases every hold, once', () => {
    r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }], pickup: 'S1' });
    r.apply({ type: 'order.placed', order: 'O2', lines: [{ sku: 'A', qty: 3 }], pickup: 'S1' });
    rejects({ type: 'stock.commit', reservation: 'order:O1:0' }, 'conflict');
    rejects({ type: 'stock.release', reservation: 'order:O1:0' }, 'conflict');
    expect(r.apply({ type: 'order.fulfilled', order: 'O1' }).result).toEqual({ ok: true, order: 'O1', status: 'completed' });
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 3 });
    expect(row('B', 'S1')).toMatchObject({ onHand: 4, reserved: 0 });
    expect(code(r.apply({ type: 'order.cancelled', order: 'O2' }))).toBe('ok');
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0, available: 3 });
    rejects({ type: 'order.fulfilled', order: 'O1' }, 'invalid_transition');
    rejects({ type: 'order.cancelled', order: 'O1' }, 'invalid_transition');
    rejects({ type: 'order.fulfilled', order: 'NEVER' }, 'unknown_order');
    rejects({ type: 'order.cancelled', order: 'NEVER' }, 'unknown_order');
  });
});

describe('topics', () => {
  it('stock/<sku> sums every location; stock/<sku>@<loc> is one row', () => {
    receive('A', 'S1', 10);
    receive('A', 'W1', 5);
    r.apply({ type: 'stock.safety', sku: 'A', location: 'W1', safety: 2 });
    r.apply({ type: 'stock.reserve', reservation: 'R', sku: 'A', qty: 4, location: 'S1' });
    expect(r.render('stock/A')).toEqual({
      sku: 'A',
      onHand: 15,
      reserved: 4,
      available: 9,
      locations: {
        S1: { onHand: 10, reserved: 4, safety: 0, available: 6 },
        W1: { onHand: 5, reserved: 0, safety: 2, available: 3 },
      },
    });
    expect(r.render('stock/A@W1')).toEqual({ sku: 'A', location: 'W1', onHand: 5, reserved: 0, safety: 2, available: 3 });
    expect(r.render('stock/A@S2')).toBeUndefined();
    expect(r.render('stock/NEVER')).toBeUndefined();
  });

  it('every change names the topics it touched', () => {
    const e = receive('A', 'S1', 1);
    expect(e.changed).toEqual(expect.arrayContaining(['stock/A', 'stock/A@S1']));
    receive('A', 'W1', 1);
    expect(r.processor.seqSlot!(r.view, 'stock/A')).toEqual({ group: 'stock/A', slot: 0 });
    expect(r.processor.seqSlot!(r.view, 'stock/A@S1')).toEqual({ group: 'stock/A', slot: 1 });
    expect(r.processor.seqSlot!(r.view, 'stock/A@W1')).toEqual({ group: 'stock/A', slot: 2 });
    expect(r.processor.seqSlot!(r.view, 'stock/A@S2')).toBeUndefined();
  });
});
