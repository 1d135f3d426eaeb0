// `omni bench reservations`: the pure workload parts (op sequences, ledger, end-state check) and a
// tiny real run against omnistream. PostgreSQL and Redis are not needed here: their targets only
// run from the bench command.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../bench/shared/flags.ts';
import { driveReservations } from '../bench/reservations/driver.ts';
import { omnistreamTarget } from '../bench/reservations/omnistream.ts';
import { COMMIT_SHARE, Ledger, MAX_QTY, ReservationPlan, checkStock, rowKey, rowsOf, type PlannedReservation, type RowState, type WorkloadShape } from '../bench/reservations/workload.ts';
import { readReservationsOptions } from '../bench/reservations/compare.ts';
import { ZipfSampler, skuName } from '../loadgen/stock-workload.ts';

const shape: WorkloadShape = { skus: 20, locations: 2, seed: 7 };
const plan = (client: number, s: WorkloadShape = shape) => new ReservationPlan(s, new ZipfSampler(s.skus, 1), client, 'p');
const take = (p: ReservationPlan, n: number) => Array.from({ length: n }, () => p.next());

describe('ReservationPlan', () => {
  it('is deterministic per (seed, client) and differs between clients', () => {
    expect(take(plan(3), 50)).toEqual(take(plan(3), 50));
    expect(take(plan(3), 50).map((r) => r.sku)).not.toEqual(take(plan(4), 50).map((r) => r.sku));
  });

  it('makes unique ids, valid rows, qty 1..3, ~70% commits and Zipf-popular SKUs', () => {
    const rs = [...take(plan(0), 5000), ...take(plan(1), 5000)];
    expect(new Set(rs.map((r) => r.id)).size).toBe(rs.length);
    const rows = new Set(rowsOf(shape).map((r) => rowKey(r.sku, r.location)));
    for (const r of rs) {
      expect(rows.has(rowKey(r.sku, r.location))).toBe(true);
      expect(r.qty).toBeGreaterThanOrEqual(1);
      expect(r.qty).toBeLessThanOrEqual(MAX_QTY);
    }
    expect(new Set(rs.map((r) => r.qty))).toEqual(new Set([1, 2, 3]));
    const commits = rs.filter((r) => r.end === 'commit').length / rs.length;
    expect(Math.abs(commits - COMMIT_SHARE)).toBeLessThan(0.03);
    const count = (sku: string) => rs.filter((r) => r.sku === sku).length;
    // Zipf(1) over 20: P(rank 0) ≈ 0.28, P(rank 1) ≈ 0.14, P(rank 19) ≈ 0.014.
    expect(count(skuName(0))).toBeGreaterThan(count(skuName(1)));
    expect(count(skuName(1))).toBeGreaterThan(count(skuName(19)) * 4);
  });
});

/** Applies reservations one at a time to a model of the stock, as a correct system would. */
function simulate(rs: PlannedReservation[], stock: number) {
  const ledger = new Ledger();
  const state = new Map<string, RowState>(rowsOf(shape).map((r) => [rowKey(r.sku, r.location), { onHand: stock, reserved: 0 }]));
  for (const r of rs) {
    const row = state.get(rowKey(r.sku, r.location))!;
    if (row.onHand - row.reserved < r.qty) {
      ledger.rejected(r);
      continue;
    }
    row.reserved += r.qty;
    ledger.reserved(r);
    row.reserved -= r.qty;
    if (r.end === 'commit') row.onHand -= r.qty;
    ledger.ended(r, true);
  }
  return { ledger, state };
}

describe('checkStock', () => {
  const rows = rowsOf(shape);
  const rs = take(plan(0), 2000);

  it('passes the end state a correct system reaches, with and without rejections', () => {
    for (const stock of [1_000_000, 20]) {
      const { ledger, state } = simulate(rs, stock);
      const result = checkStock({ rows, startingStock: stock, ledger, observed: state, concurrency: 1 });
      expect(result).toMatchObject({ ok: true, problemCount: 0, rowsChecked: rows.length });
      if (stock === 20) expect(ledger.totals().rejections).toBeGreaterThan(0);
    }
  });

  it('catches a wrong onHand, a stray hold, oversell, a missing row and a bad available', () => {
    const { ledger, state } = simulate(rs, 1000);
    const [a, b, c, d] = rows.map((r) => rowKey(r.sku, r.location));
    state.get(a)!.onHand += 1;
    state.get(b)!.reserved += 2;
    state.set(c, { onHand: 1, reserved: 5 });
    state.delete(d);
    state.set(rowKey(rows[4].sku, rows[4].location), { ...state.get(rowKey(rows[4].sku, rows[4].location))!, available: -1 });
    const result = checkStock({ rows, startingStock: 1000, ledger, observed: state, concurrency: 1 });
    expect(result.ok).toBe(false);
    const text = result.problems.join('\n');
    expect(text).toContain(`${a}: onHand`);
    expect(text).toContain(`${b}: reserved`);
    expect(text).toContain(`${c}: oversold`);
    expect(text).toContain(`${d}: missing`);
    expect(text).toContain('available -1');
  });

  it('flags lost reservations and rejections that plentiful stock cannot explain', () => {
    const { ledger, state } = simulate(rs.slice(0, 10), 1000);
    ledger.ended(rs[0], false);
    ledger.rejected(rs[1]);
    const result = checkStock({ rows, startingStock: 1000, ledger, observed: state, concurrency: 64 });
    expect(result.problems.join('\n')).toMatch(/unknown_reservation[\s\S]*rejected although stock never ran short|rejected although[\s\S]*unknown_reservation/);
    // With little stock and many clients a rejection is plausible.
    const low = simulate(rs.slice(0, 10), 3);
    low.ledger.rejected(rs[1]);
    const lowResult = checkStock({ rows, startingStock: 3, ledger: low.ledger, observed: low.state, concurrency: 64 });
    expect(lowResult.problems.join('\n')).not.toContain('never ran short');
  });
});

describe('options', () => {
  it('defaults to every target at the durable and relaxed tiers', () => {
    const o = readReservationsOptions([]);
    expect(o).toMatchObject({ skus: 1000, locations: 1, concurrency: 64, seconds: 8, warmupSeconds: 2, plan: { omnistream: ['fsync', 'commit'], postgres: ['on', 'off'], redis: ['always', 'everysec'] } });
    expect(readReservationsOptions(['--targets', 'omnistream', '--omni-durability', 'none'])).toMatchObject({ plan: { omnistream: ['none'], postgres: [], redis: [] } });
    expect(() => readReservationsOptions(['--pg-durability', 'maybe'])).toThrow(UsageError);
  });
});

describe('omnistream target, tiny real run', () => {
  const drive = async (o: { skus: number; stock: number }) => {
    const target = await omnistreamTarget.start('fsync', { concurrency: 4, runNo: 0 });
    try {
      const s = { skus: o.skus, locations: 1, seed: 1 };
      await target.seed(s, o.stock);
      return await driveReservations(target, { shape: s, stock: o.stock, concurrency: 4, warmupSeconds: 0.3, seconds: 1, idPrefix: 't' });
    } finally {
      await target.stop();
    }
  };

  it('passes the end-state check and its counts add up', async () => {
    const r = await drive({ skus: 5, stock: 1_000_000 });
    expect(r.check).toMatchObject({ ok: true, rowsChecked: 5 });
    expect(r.ops).toBeGreaterThan(0);
    expect(r.rejections).toBe(0);
    expect(r.opsPerS * r.seconds).toBeCloseTo(r.ops, 6);
    expect(r.reservationsPerS * r.seconds).toBeCloseTo(r.commits + r.releases, 6);
    // Every reservation was ended exactly once; the window holds at most the whole run's work.
    expect(r.totals.commits + r.totals.releases).toBe(r.totals.reserves);
    expect(r.totals.lostEnds).toBe(0);
    expect(r.commits + r.releases).toBeLessThanOrEqual(r.totals.reserves);
    expect(r.latency.count).toBe(r.ops);
    expect(r.reserveLatency.count + r.endLatency.count).toBe(r.ops);
  });

  it('rejects instead of overselling when the stock runs out', async () => {
    const r = await drive({ skus: 2, stock: 10 });
    expect(r.check.ok).toBe(true);
    expect(r.totals.rejections).toBeGreaterThan(0);
    expect(r.totals.committedQty).toBeLessThanOrEqual(2 * 10);
  });
});
