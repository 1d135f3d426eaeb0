// Ship sourcing a retailer steers with location.upserted's `ships` and `shipCapacity`, on the pure
// runner: a location that does not ship never sends a ship order (and still serves pickups), one
// with a capacity takes that many ship orders per UTC day of their event time (the next one goes
// elsewhere, or is refused), the rest are chosen fewest-then-nearest as before, orders racing for
// the last slot never pass the capacity (by hand and over random interleavings of the saga
// steps), a refused or cancelled order gives its slot back, and a location declared without the
// fields sources as before (no extra step).

import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../engine/partitions.ts';
import type { AppliedStep } from '../engine/pure-runner.ts';
import { stockProcessor } from '../engine/stock/mod.ts';
import { shipDay } from '../engine/stock/ship-capacity.ts';
import { ownerOfKey, SHIP_CAPACITY_OWNER } from '../engine/stock/types.ts';
import type { FinalResult } from '../engine/types.ts';
import { PureRunner } from './pure-harness.ts';

const DAY = 86_400_000;
/** 2026-03-02T10:00Z: any time of a day counts for that day. */
const T0 = Date.UTC(2026, 2, 2, 10);
/** Near Frankfurt: W1 is nearest, then S2 (Munich), then S1 (Berlin). */
const FRANKFURT = { lat: 50.0, lon: 8.6 };
const PLACES: Record<string, { kind: 'store' | 'warehouse'; lat: number; lon: number }> = {
  W1: { kind: 'warehouse', lat: 50.1, lon: 8.7 },
  S1: { kind: 'store', lat: 52.5, lon: 13.4 },
  S2: { kind: 'store', lat: 48.1, lon: 11.6 },
};

let r: PureRunner;
let steps: AppliedStep[];
let n = 0;

function runner(): PureRunner {
  steps = [];
  return new PureRunner(stockProcessor({ lowStockThreshold: 0 }), { onStep: (s) => steps.push(s) });
}

function declare(run: PureRunner, location: string, fields: { ships?: boolean; shipCapacity?: number } = {}): FinalResult {
  return run.apply({ type: 'location.upserted', location, ...PLACES[location], ...fields }).result as FinalResult;
}

const receive = (sku: string, location: string, qty: number) => r.apply({ type: 'stock.received', sku, location, qty });

/** A ship order to Frankfurt at event time `ts`; its final answer. */
function ship(lines: Array<[string, number]>, ts = T0, id = `o${++n}`): any {
  return r.apply({ id: `place-${id}`, type: 'order.placed', order: id, lines: lines.map(([sku, qty]) => ({ sku, qty })), ship: FRANKFURT, ts }).result;
}

const sources = (answer: any) => (answer.ok ? [...new Set(answer.allocation.map((a: { location: string }) => a.location))] : answer.error.code);
const counter = (location: string, ts = T0) => r.state.get(`stock/shipcap/${location}/${shipDay(ts)}`);
/** The saga's steps (alerts and an order's news to other domains left out). */
const sagaSteps = () => steps.filter((s) => /^(stock|order)\./.test(s.event?.type ?? '') && s.event?.type !== 'stock.alert');
const reserved = (sku: string, location: string) => r.render(`stock/${sku}@${location}`)?.reserved ?? 0;

beforeEach(() => {
  r = runner();
  n = 0;
});

describe('location fields', () => {
  it('are kept on the location and listed; a wrong value is refused before anything is written', () => {
    expect(declare(r, 'W1', { ships: false, shipCapacity: 0 })).toMatchObject({ ok: true });
    expect(declare(r, 'S1')).toMatchObject({ ok: true });
    expect(r.processor.query!(r.view, 'locations', {})).toEqual([
      { id: 'S1', ...PLACES.S1, lowStock: 0 },
      { id: 'W1', ...PLACES.W1, ships: false, shipCapacity: 0, lowStock: 0 },
    ]);
    const before = r.dump();
    for (const bad of [{ ships: 'no' }, { ships: 0 }, { shipCapacity: -1 }, { shipCapacity: 1.5 }, { shipCapacity: '3' }]) {
      const result = r.apply({ type: 'location.upserted', location: 'S2', ...PLACES.S2, ...bad }).result as any;
      expect(result.error.code, JSON.stringify(bad)).toBe('invalid_event');
      expect(result.error.field).toBe(Object.keys(bad)[0]);
    }
    expect(r.dump()).toBe(before);
  });
});

describe('a location that does not ship', () => {
  beforeEach(() => {
    declare(r, 'W1', { ships: false });
    declare(r, 'S1');
    declare(r, 'S2', { ships: false });
    receive('A', 'W1', 10);
    receive('A', 'S1', 10);
    receive('A', 'S2', 10);
  });

  it('is never chosen for a ship order, however near and well stocked', () => {
    for (let i = 0; i < 3; i++) expect(sources(ship([['A', 3]]))).toEqual(['S1']);
    expect(reserved('A', 'W1')).toBe(0);
    expect(reserved('A', 'S2')).toBe(0);
    // What only the non-shipping locations have is not there to ship.
    const before = r.dump();
    expect(ship([['A', 2]])).toEqual({
      ok: false,
      error: { code: 'insufficient_stock', message: '2 × A wanted, 1 available', wanted: 2, available: 1 },
    });
    expect(r.dump()).toBe(before);
  });

  it('still serves pickups', () => {
    const picked = r.apply({ id: 'p', type: 'order.placed', order: 'P1', lines: [{ sku: 'A', qty: 4 }], pickup: 'S2' }).result as any;
    expect(picked).toMatchObject({ ok: true, allocation: [{ sku: 'A', qty: 4, location: 'S2' }] });
    expect(reserved('A', 'S2')).toBe(4);
  });

  it('ships again once declared so', () => {
    declare(r, 'W1', { ships: true });
    expect(sources(ship([['A', 3]]))).toEqual(['W1']);
  });
});

describe('a shipping capacity', () => {
  beforeEach(() => {
    declare(r, 'W1', { shipCapacity: 2 });
    declare(r, 'S1');
    declare(r, 'S2');
    receive('A', 'W1', 100);
  });

  it('of 2: the third ship order of the day goes elsewhere, and the next day it has room again', () => {
    receive('A', 'S2', 100);
    expect(sources(ship([['A', 1]]))).toEqual(['W1']);
    expect(sources(ship([['A', 1]], T0 + 3_600_000))).toEqual(['W1']);
    expect(counter('W1')).toBe(2);
    expect(sources(ship([['A', 1]], T0 + 7_200_000))).toEqual(['S2']);
    // Event time decides the day, not arrival: 13:59 after the first order is still 2026-03-02.
    expect(sources(ship([['A', 1]], Date.UTC(2026, 2, 2, 23, 59, 59)))).toEqual(['S2']);
    expect(sources(ship([['A', 1]], Date.UTC(2026, 2, 3, 0, 0, 0)))).toEqual(['W1']);
    expect(counter('W1')).toBe(2);
    expect(counter('W1', T0 + DAY)).toBe(1);
    // An order of a day before is counted on its own day.
    expect(sources(ship([['A', 1]], T0 - DAY))).toEqual(['W1']);
    expect(counter('W1', T0 - DAY)).toBe(1);
  });

  it('full, with nowhere else to ship from: the order is refused, saying the capacity ran out, and nothing is held', () => {
    ship([['A', 1]]);
    ship([['A', 1]]);
    const before = r.dump();
    const refused = ship([['A', 1]]);
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'insufficient_stock',
        message: `1 × A wanted, 0 available to ship: the shipping capacity of W1 ran out for ${shipDay(T0)}`,
        wanted: 1,
        available: 0,
      },
    });
    expect(r.dump()).toBe(before);
  });

  it('of 0: never ships', () => {
    declare(r, 'W1', { shipCapacity: 0 });
    expect(ship([['A', 1]])).toMatchObject({ ok: false, error: { code: 'insufficient_stock' } });
    expect(counter('W1')).toBeUndefined();
  });

  it('counts orders, not lines or units: one order of many units from the location takes one slot', () => {
    receive('B', 'W1', 100);
    expect(sources(ship([['A', 40], ['B', 30]]))).toEqual(['W1']);
    expect(counter('W1')).toBe(1);
  });

  it('leaves fewest-then-nearest among the locations with room', () => {
    // W1 (nearest, has everything) is full; S2 (nearer) has only A; S1 has A and B: one location beats two.
    receive('B', 'W1', 100);
    receive('A', 'S2', 10);
    receive('A', 'S1', 10);
    receive('B', 'S1', 10);
    ship([['A', 1]]);
    ship([['A', 1]]);
    expect(sources(ship([['A', 2], ['B', 2]]))).toEqual(['S1']);
    // Only A: the nearest with room.
    expect(sources(ship([['A', 2]]))).toEqual(['S2']);
    // More A than any one location has: two locations, the nearest pair with room.
    expect(ship([['A', 15]]).allocation.map((a: any) => [a.location, a.qty])).toEqual([
      ['S2', 8],
      ['S1', 7],
    ]);
  });

  it('a cancelled ship order gives its slot back to its day', () => {
    receive('A', 'S2', 100);
    ship([['A', 1]], T0, 'first');
    ship([['A', 1]], T0, 'second');
    expect(r.apply({ id: 'cancel', type: 'order.cancelled', order: 'first', ts: T0 + DAY }).result).toMatchObject({ ok: true });
    // Given back to the day the order was placed on, not the day of the cancellation.
    expect(counter('W1')).toBe(1);
    expect(counter('W1', T0 + DAY)).toBeUndefined();
    expect(sources(ship([['A', 1]]))).toEqual(['W1']);
    expect(sources(ship([['A', 1]]))).toEqual(['S2']);
  });

  it('a slot claimed by an order whose hold is then refused is given back', () => {
    r.autoDrain = false;
    r.apply({ id: 'place', type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 100 }], ship: FRANKFURT, ts: T0 });
    while (r.queue.length > 0 && r.queue[0].type !== 'stock.hold') r.step();
    expect(counter('W1')).toBe(1);
    r.apply({ type: 'stock.sold', sku: 'A', location: 'W1', qty: 1 }); // sent after, applied before the hold
    r.drain();
    expect(r.answers.get('place')).toMatchObject({ ok: false, error: { code: 'insufficient_stock', message: '100 × A wanted at W1, 99 available' } });
    expect(counter('W1')).toBeUndefined();
    expect(reserved('A', 'W1')).toBe(0);
    expect(r.state.has('stock/order/O1')).toBe(false);
  });

  it('two orders racing for the last slot: one takes it, the other is refused and holds nothing', () => {
    receive('A', 'S2', 100);
    ship([['A', 1]]);
    r.autoDrain = false;
    r.apply({ id: 'P1', type: 'order.placed', order: 'R1', lines: [{ sku: 'A', qty: 2 }], ship: FRANKFURT, ts: T0 });
    r.apply({ id: 'P2', type: 'order.placed', order: 'R2', lines: [{ sku: 'A', qty: 3 }], ship: FRANKFURT, ts: T0 });
    // Both ask for room before either claims: both are told W1 has a slot left.
    while (r.queue.length > 0 && r.queue.filter((e) => e.type === 'stock.shipclaim').length < 2) {
      expect(r.queue[0].type).not.toBe('stock.shipclaim');
      r.step();
    }
    expect(r.queue.filter((e) => e.type === 'stock.shipclaim').map((e) => e.locations)).toEqual([['W1'], ['W1']]);
    r.drain();
    expect(r.answers.get('P1')).toMatchObject({ ok: true, allocation: [{ location: 'W1', qty: 2 }] });
    expect(r.answers.get('P2')).toEqual({
      ok: false,
      error: { code: 'insufficient_stock', message: `the shipping capacity of W1 ran out for ${shipDay(T0)} (another order took the last slot)` },
    });
    expect(counter('W1')).toBe(2);
    expect(reserved('A', 'W1')).toBe(3);
    expect(reserved('A', 'S2')).toBe(0);
    expect(r.state.has('stock/order/R2')).toBe(false);
    // The refused order may be placed again: it now ships from S2.
    r.autoDrain = true;
    expect(sources(r.apply({ id: 'P2b', type: 'order.placed', order: 'R2', lines: [{ sku: 'A', qty: 3 }], ship: FRANKFURT, ts: T0 }).result)).toEqual(['S2']);
  });

  it('counters are written only at their owner’s partition, whose steps the saga adds', () => {
    steps.length = 0;
    ship([['A', 1]], T0, 'X');
    expect(sagaSteps().map((s) => [s.event?.type, s.key])).toEqual([
      ['order.placed', 'X'],
      ['stock.quote', 'A'],
      ['order.quoted', 'X'],
      ['stock.shiproom', SHIP_CAPACITY_OWNER],
      ['order.shiproom', 'X'],
      ['stock.shipclaim', SHIP_CAPACITY_OWNER],
      ['order.shipclaimed', 'X'],
      ['stock.hold', 'A'],
      ['order.held', 'X'],
    ]);
    for (const s of steps) for (const [key] of s.effects.writes ?? []) expect(ownerOfKey(key), `${s.event?.type} wrote ${key}`).toBe(s.key);
    expect(r.state.get('stock/order/X')).toMatchObject({ status: 'placed', shipSlots: { day: shipDay(T0), locations: ['W1'] } });
  });
});

describe('locations declared without the fields', () => {
  it('source ship orders as before, with no step to the capacity owner', () => {
    for (const l of Object.keys(PLACES)) declare(r, l);
    receive('A', 'W1', 5);
    receive('A', 'S2', 5);
    steps.length = 0;
    expect(ship([['A', 7]]).allocation.map((a: any) => [a.location, a.qty])).toEqual([
      ['W1', 5],
      ['S2', 2],
    ]);
    expect(sagaSteps().map((s) => s.event?.type)).toEqual(['order.placed', 'stock.quote', 'order.quoted', 'stock.hold', 'stock.hold', 'order.held', 'order.held']);
    expect([...r.state.keys()].filter((k) => k.startsWith('stock/shipcap/'))).toEqual([]);
  });

  it('a capacity elsewhere asks only when a location with one could send the order', () => {
    declare(r, 'W1');
    declare(r, 'S1', { shipCapacity: 1 });
    receive('A', 'W1', 5);
    steps.length = 0;
    ship([['A', 1]]);
    expect(steps.some((s) => s.event?.type === 'stock.shiproom')).toBe(false);
  });
});

describe('any interleaving of the saga steps', () => {
  it('never takes more ship orders from a location in a day than its capacity, counts exactly the orders it keeps, and writes each key at its owner', () => {
    const processor = stockProcessor();
    const partition = (ev: { type: string }) => partitionOf(processor.partitionKey(ev as never), 16);
    const orderArb = fc.record({
      lines: fc.array(fc.record({ sku: fc.constantFrom('A', 'B'), qty: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 2 }),
      day: fc.integer({ min: 0, max: 1 }),
      lat: fc.double({ min: 47, max: 53, noNaN: true }),
      lon: fc.double({ min: 7, max: 14, noNaN: true }),
    });
    const actionArb = fc.oneof(
      { weight: 5, arbitrary: orderArb.map((o) => ({ kind: 'order' as const, ...o })) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map((i) => ({ kind: 'cancel' as const, i })) },
      { weight: 1, arbitrary: fc.record({ sku: fc.constantFrom('A', 'B'), location: fc.constantFrom('W1', 'S1', 'S2'), qty: fc.integer({ min: 1, max: 4 }) }).map((s) => ({ kind: 'sold' as const, ...s })) },
    );
    const capacities = fc.record({ W1: fc.integer({ min: 0, max: 3 }), S1: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), S2: fc.integer({ min: 1, max: 2 }) });
    let capacitySteps = 0;
    fc.assert(
      fc.property(capacities, fc.array(fc.tuple(actionArb, fc.array(fc.nat(), { maxLength: 3 })), { minLength: 1, maxLength: 40 }), (caps, actions) => {
        const applied: AppliedStep[] = [];
        const run = new PureRunner(processor, { onStep: (s) => applied.push(s) });
        for (const [l, place] of Object.entries(PLACES)) {
          const cap = caps[l as keyof typeof caps];
          run.apply({ type: 'location.upserted', location: l, ...place, ...(cap !== undefined ? { shipCapacity: cap } : {}) });
          run.apply({ type: 'stock.received', sku: 'A', location: l, qty: 20 });
          run.apply({ type: 'stock.received', sku: 'B', location: l, qty: 20 });
        }
        run.autoDrain = false;
        let orders = 0;
        for (const [action, picks] of actions) {
          if (action.kind === 'order') {
            const { lines, day, lat, lon } = action;
            run.apply({ id: `p${++orders}`, type: 'order.placed', order: `o${orders}`, lines, ship: { lat, lon }, ts: T0 + day * DAY });
          } else if (action.kind === 'cancel') run.apply({ type: 'order.cancelled', order: `o${action.i}` });
          else run.apply({ type: 'stock.sold', sku: action.sku, location: action.location, qty: action.qty });
          // Steps of any partitions, each partition's in the order they were emitted.
          for (const pick of picks) {
            const heads = run.queue.filter((ev, i) => !run.queue.slice(0, i).some((e) => partition(e) === partition(ev)));
            if (heads.length === 0) break;
            const next = heads[pick % heads.length];
            run.queue.splice(run.queue.indexOf(next), 1);
            run.applyValid(next);
          }
        }
        run.drain();
        for (let i = 1; i <= orders; i++) expect(run.answers.has(`p${i}`), `p${i} answered`).toBe(true);
        for (const s of applied) {
          for (const [key] of s.effects.writes ?? []) expect(ownerOfKey(key), `${s.event?.type} at '${s.key}' wrote ${key}`).toBe(s.key);
        }
        capacitySteps += applied.filter((s) => s.key === SHIP_CAPACITY_OWNER).length;
        // Per (location, day): the orders that hold a slot there, against the counter and the capacity.
        const kept = new Map<string, number>();
        for (const [key, value] of run.state) {
          if (!key.startsWith('stock/order/')) continue;
          const order = value as { status: string; shipSlots?: { day: string; locations: string[] }; allocation: Array<{ location: string }>; placedAt: number };
          expect(order.status).not.toBe('placing');
          const day = shipDay(order.placedAt);
          for (const l of new Set(order.allocation.map((a) => a.location))) {
            const cap = caps[l as keyof typeof caps];
            if (cap === undefined) continue;
            // Every order sourced from a location with a capacity took a slot there.
            expect(order.shipSlots?.locations, `${key} at ${l}`).toContain(l);
          }
          if (order.status === 'cancelled' || !order.shipSlots) continue;
          for (const l of order.shipSlots.locations) kept.set(`${l}/${day}`, (kept.get(`${l}/${day}`) ?? 0) + 1);
        }
        for (const [l, cap] of Object.entries(caps)) {
          for (const day of [0, 1].map((d) => shipDay(T0 + d * DAY))) {
            const count = (run.state.get(`stock/shipcap/${l}/${day}`) as number | undefined) ?? 0;
            expect(count, `${l} ${day}`).toBe(kept.get(`${l}/${day}`) ?? 0);
            if (cap !== undefined) expect(count, `${l} ${day}`).toBeLessThanOrEqual(cap);
          }
        }
      }),
      { numRuns: 300 },
    );
    // The capacity owner's steps ran, and were checked with the rest.
    expect(capacitySteps).toBeGreaterThan(100);
  });
});
