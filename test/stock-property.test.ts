// Random interleavings of every stock and order event, expiries included. After every step:
// available ≥ 0, reserved equals the sum of live holds, an accepted hold never exceeded what
// was available, a rejection changed nothing, and totals equal the sum of locations. The same
// sequences run through the real engine in random batch splits must end in the same state.

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEngine } from '../engine/mod.ts';
import { stockProcessor } from '../engine/stock/mod.ts';
import type { Reservation } from '../engine/stock/types.ts';
import { PureRunner } from './pure-harness.ts';

const SKUS = ['A', 'B', 'C'];
const LOCS = ['S1', 'S2', 'W1'];
const COORDS: Record<string, [number, number]> = { S1: [52.5, 13.4], S2: [48.1, 11.6], W1: [50.1, 8.7] };

const sku = fc.constantFrom(...SKUS);
const location = fc.constantFrom(...LOCS);
const qty = fc.integer({ min: 1, max: 12 });
const resId = fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'order:o1:0', 'order:o2:1');
const orderId = fc.constantFrom('o1', 'o2', 'o3');

type Step = { type: string; [k: string]: unknown };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
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

function setup(r: PureRunner): Step[] {
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

function checkInvariants(r: PureRunner): void {
  const holds = new Map<string, number>();
  for (const [k, v] of r.state) {
    if (!k.startsWith('stock/res/')) continue;
    const res = v as Reservation;
    holds.set(`${res.sku}@${res.location}`, (holds.get(`${res.sku}@${res.location}`) ?? 0) + res.qty);
  }
  for (const s of SKUS) {
    const total = r.render(`stock/${s}`);
    if (!total) continue;
    let onHand = 0;
    let reserved = 0;
    let available = 0;
    for (const [l, row] of Object.entries<any>(total.locations)) {
      expect(row.available).toBeGreaterThanOrEqual(0);
      expect(row.available).toBe(Math.max(0, row.onHand - row.reserved - row.safety));
      expect(row.reserved).toBe(holds.get(`${s}@${l}`) ?? 0);
      onHand += row.onHand;
      reserved += row.reserved;
      available += row.available;
    }
    expect(total).toMatchObject({ onHand, reserved, available });
  }
}

function availableOf(r: PureRunner, s: string, l: string): number {
  return r.render(`stock/${s}@${l}`)?.available ?? 0;
}

/** Runs one step on the pure runner, checking what it may and may not do. */
function runStep(r: PureRunner, step: Step): void {
  if (step.type === 'tick') {
    r.now += step.ms as number;
    r.fireDue();
    return;
  }
  const before = r.dump();
  const availBefore = new Map<string, number>(SKUS.flatMap((s) => LOCS.map((l): [string, number] => [`${s}@${l}`, availableOf(r, s, l)])));
  const e = r.apply(step);
  if (!e.result.ok) {
    expect(r.dump()).toBe(before);
    return;
  }
  if (step.type === 'stock.reserve') {
    const where = (e.result as any).location as string;
    expect(step.qty as number).toBeLessThanOrEqual(availBefore.get(`${step.sku}@${where}`)!);
  }
  if (step.type === 'order.placed') {
    const allocation = (e.result as any).allocation as Array<{ sku: string; qty: number; location: string }>;
    const need = new Map<string, number>();
    for (const l of step.lines as Array<{ sku: string; qty: number }>) need.set(l.sku, (need.get(l.sku) ?? 0) + l.qty);
    const perRow = new Map<string, number>();
    for (const a of allocation) {
      need.set(a.sku, need.get(a.sku)! - a.qty);
      perRow.set(`${a.sku}@${a.location}`, (perRow.get(`${a.sku}@${a.location}`) ?? 0) + a.qty);
    }
    expect([...need.values()].every((q) => q === 0)).toBe(true);
    for (const [k, q] of perRow) expect(q).toBeLessThanOrEqual(availBefore.get(k)!);
  }
}

describe('stock properties', () => {
  it('hold for random interleavings of every event (pure processor)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 120 }), (steps) => {
        const r = new PureRunner(stockProcessor());
        setup(r);
        for (const step of steps) {
          runStep(r, step);
          checkInvariants(r);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the engine, batching events as they come, ends where sequential application ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-prop-'));
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(stepArb.filter((s) => s.type !== 'tick'), { minLength: 1, maxLength: 80 }),
          fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 80 }),
          async (steps, splits) => {
            const now = 5_000_000;
            const engine = await openEngine({
              path: join(dir, String(++n)),
              processors: [stockProcessor()],
              clock: { now: () => now },
              autoTimers: false,
              durability: 'none',
            });
            try {
              const r = new PureRunner(stockProcessor());
              r.now = now;
              const all = [...setup(r), ...steps].map((s, i) => ({ id: `p${i}`, ...s }));
              for (const s of steps) r.apply(s);
              // Submit in random chunks without awaiting: they queue and batch together.
              const pending: Array<Promise<unknown>> = [];
              for (let i = 0, k = 0; i < all.length; k++) {
                const size = splits[k % splits.length];
                pending.push(engine.submit(all.slice(i, i + size)));
                i += size;
              }
              await Promise.all(pending);
              for (const s of SKUS) {
                expect(engine.snapshot(`stock/${s}`)?.data).toEqual(r.render(`stock/${s}`));
              }
            } finally {
              await engine.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
