// Random stock traffic for the property tests: every stock and order event over a few SKUs,
// locations, reservation and order ids (an order's own reservation ids among them), and clock
// ticks that fire the expiry timers due.

import fc from 'fast-check';
import type { PureRunner } from './pure-harness.ts';

export const SKUS = ['A', 'B', 'C'];
export const LOCS = ['S1', 'S2', 'W1'];
const COORDS: Record<string, [number, number]> = { S1: [52.5, 13.4], S2: [48.1, 11.6], W1: [50.1, 8.7] };

const sku = fc.constantFrom(...SKUS);
const location = fc.constantFrom(...LOCS);
const qty = fc.integer({ min: 1, max: 12 });
const resId = fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'order:o1:0', 'order:o2:1');
const orderId = fc.constantFrom('o1', 'o2', 'o3');

export type Step = { type: string; [k: string]: unknown };

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ type: fc.constant('stock.received'), sku, location, qty }),
  fc.record({ type: fc.constant('stock.returned'), sku, location, qty }),
  fc.record({ type: fc.constant('stock.sold'), sku, location, qty }),
  fc.record({ type: fc.constant('stock.adjusted'), sku, location, onHand: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ type: fc.constant('stock.safety'), sku, location, safety: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ type: fc.constant('stock.reserve'), reservation: resId, sku, qty, location: fc.option(location, { nil: undefined }), ttlMs: fc.constantFrom(1000, 5000) }),
  fc.record({ type: fc.constant('stock.release'), reservation: resId }),
  fc.record({ type: fc.constant('stock.commit'), reservation: resId }),
  fc.record({ type: fc.constant('stock.transfer'), transfer: fc.constant('t'), sku, from: location, to: location, qty }),
  fc.record({
    type: fc.constant('order.placed'),
    order: orderId,
    lines: fc.array(fc.record({ sku, qty: fc.integer({ min: 1, max: 8 }) }), { minLength: 1, maxLength: 3 }),
    pickup: fc.constantFrom('S1', 'S2'),
  }),
  fc.record({
    type: fc.constant('order.placed'),
    order: orderId,
    lines: fc.array(fc.record({ sku, qty: fc.integer({ min: 1, max: 8 }) }), { minLength: 1, maxLength: 3 }),
    ship: fc.record({ lat: fc.double({ min: 45, max: 55, noNaN: true }), lon: fc.double({ min: 5, max: 15, noNaN: true }) }),
  }),
  fc.record({ type: fc.constant('order.fulfilled'), order: orderId }),
  fc.record({ type: fc.constant('order.cancelled'), order: orderId }),
  fc.record({ type: fc.constant('tick'), ms: fc.constantFrom(500, 2000, 6000) }),
);

/** Declares the locations (two stores and a warehouse); returns the events it applied. */
export function setup(r: PureRunner): Step[] {
  const steps = LOCS.map((l, i) => ({
    type: 'location.upserted',
    location: l,
    kind: i < 2 ? 'store' : 'warehouse',
    lat: COORDS[l][0],
    lon: COORDS[l][1],
  }));
  for (const s of steps) r.apply(s);
  return steps;
}
