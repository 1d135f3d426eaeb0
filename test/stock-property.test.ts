// Random interleavings of every stock and order event, expiries included. After every step
// (each saga run to its end): available ≥ 0, reserved equals the sum of live holds, an accepted
// hold never exceeded what was available, a rejection changed nothing, and totals equal the sum
// of locations. The same sequences run through the real engine in random batch splits must end
// in the same state.

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEngine } from '../engine/mod.ts';
import { stockProcessor } from '../engine/stock/mod.ts';
import { isPendingReservation, type OrderRecord, type Reservation, type ReservationRecord } from '../engine/stock/types.ts';
import type { EventResult } from '../engine/types.ts';
import { PureRunner } from './pure-harness.ts';
import { LOCS, setup, SKUS, stepArb, type Step } from './stock-traffic.ts';

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

  // Sagas run between batches, so events batched together no longer end as one after the other
  // would (an order's holds may come after a sale sent behind it): the engine must leave every
  // hold accounted for, and — one event at a time — answer as sequential application does.
  it('the engine, batching events as they come, ends every saga with each hold accounted for', async () => {
    await withEngines(30, async (engine, steps, splits) => {
      const all = steps.map((s, i) => ({ id: `p${i}`, ...s }));
      const pending: Array<Promise<EventResult[]>> = [];
      for (let i = 0, k = 0; i < all.length; k++) {
        const size = splits[k % splits.length];
        pending.push(engine.submit(all.slice(i, i + size)));
        i += size;
      }
      for (const result of (await Promise.all(pending)).flat()) {
        if (!result.ok) expect(ANSWERED_CODES).toContain(result.error.code);
      }
      // A refused order is answered once refused; releasing what it held is a later step.
      await engine.idle();
      const holds = new Map<string, number>();
      for (const id of RESERVATION_IDS) {
        const res = engine.read<ReservationRecord>(`stock/res/${id}`);
        if (!res) continue;
        expect(isPendingReservation(res)).toBe(false);
        const row = `${res.sku}@${(res as Reservation).location}`;
        holds.set(row, (holds.get(row) ?? 0) + res.qty);
      }
      for (const o of ORDER_IDS) expect(engine.read<OrderRecord>(`stock/order/${o}`)?.status).not.toBe('placing');
      for (const s of SKUS) {
        const total = engine.snapshot(`stock/${s}`)?.data as any;
        for (const [l, row] of Object.entries<any>(total?.locations ?? {})) expect(row.reserved).toBe(holds.get(`${s}@${l}`) ?? 0);
      }
    });
  });

  it('the engine, given one event at a time, answers each as sequential application does', async () => {
    await withEngines(15, async (engine, steps) => {
      const r = new PureRunner(stockProcessor());
      r.now = NOW;
      setup(r);
      for (const [i, s] of steps.entries()) {
        const [answer] = await engine.submit([{ id: `p${i}`, ...s }]);
        const expected = r.apply(s).result;
        expect(answer).toEqual(expected.ok && Object.keys(expected).length === 1 ? { id: `p${i}`, ok: true } : { id: `p${i}`, ...expected });
      }
      for (const s of SKUS) expect(engine.snapshot(`stock/${s}`)?.data).toEqual(r.render(`stock/${s}`));
    });
  });
});

const NOW = 5_000_000;
const ANSWERED_CODES = ['invalid_event', 'unknown_location', 'insufficient_stock', 'unknown_reservation', 'unknown_order', 'invalid_transition', 'conflict'];
const ORDER_IDS = ['o1', 'o2', 'o3'];
/** Every reservation id the traffic can make: its own, and each order's (a shipped line may split over every location). */
const RESERVATION_IDS = ['r1', 'r2', 'r3', 'r4', 'r5', ...ORDER_IDS.flatMap((o) => Array.from({ length: 3 * LOCS.length }, (_, i) => `order:${o}:${i}`))];

/** Runs `check` on a fresh engine (locations declared) per generated sequence of events. */
async function withEngines(
  numRuns: number,
  check: (engine: Awaited<ReturnType<typeof openEngine>>, steps: Step[], splits: number[]) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'omni-prop-'));
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb.filter((s) => s.type !== 'tick'), { minLength: 1, maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 80 }),
        async (steps, splits) => {
          const engine = await openEngine({
            path: join(dir, String(++n)),
            processors: [stockProcessor()],
            clock: { now: () => NOW },
            autoTimers: false,
            durability: 'none',
          });
          try {
            const declared = setup(new PureRunner(stockProcessor()));
            await engine.submit(declared.map((s, i) => ({ id: `loc${i}`, ...s })));
            await check(engine, steps, splits);
          } finally {
            await engine.close();
          }
        },
      ),
      { numRuns },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
