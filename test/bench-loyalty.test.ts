// `omni bench loyalty`: the pure workload parts (redemption sequences, ledger, balance check) and
// a tiny real run against omnistream. PostgreSQL and Redis are not needed here: their targets
// only run from the bench command.

import { describe, expect, it } from 'vitest';
import { readLoyaltyOptions } from '../bench/loyalty/compare.ts';
import { driveRedemptions } from '../bench/loyalty/driver.ts';
import { omnistreamLoyalty } from '../bench/loyalty/omnistream.ts';
import { RedemptionLedger, RedemptionPlan, checkBalances, customersOf, type PlannedRedemption, type RedemptionShape } from '../bench/loyalty/workload.ts';
import { UsageError } from '../bench/shared/flags.ts';

const shape: RedemptionShape = { customers: 5, maxPoints: 10, seed: 3 };
const take = (p: RedemptionPlan, n: number) => Array.from({ length: n }, () => p.next());

describe('RedemptionPlan', () => {
  it('is deterministic per (seed, client), differs between clients, and covers every customer and amount', () => {
    expect(take(new RedemptionPlan(shape, 2, 'p'), 50)).toEqual(take(new RedemptionPlan(shape, 2, 'p'), 50));
    expect(take(new RedemptionPlan(shape, 2, 'p'), 50).map((r) => r.customer)).not.toEqual(take(new RedemptionPlan(shape, 3, 'p'), 50).map((r) => r.customer));
    const rs = [...take(new RedemptionPlan(shape, 0, 'p'), 2000), ...take(new RedemptionPlan(shape, 1, 'p'), 2000)];
    expect(new Set(rs.map((r) => r.id)).size).toBe(rs.length);
    expect(new Set(rs.map((r) => r.customer))).toEqual(new Set(customersOf(shape)));
    expect(new Set(rs.map((r) => r.points))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  });
});

/** Applies redemptions one at a time to a model of the balances, as a correct system would. */
function simulate(rs: PlannedRedemption[], start: number) {
  const ledger = new RedemptionLedger();
  const balances = new Map(customersOf(shape).map((c) => [c, start]));
  for (const r of rs) {
    const b = balances.get(r.customer)!;
    if (b < r.points) {
      ledger.refused(r);
      continue;
    }
    balances.set(r.customer, b - r.points);
    ledger.redeemed(r);
  }
  return { ledger, balances };
}

describe('checkBalances', () => {
  const customers = customersOf(shape);
  const rs = take(new RedemptionPlan(shape, 0, 'p'), 500);

  it('passes what a correct system ends with, with and without refusals', () => {
    for (const start of [1_000_000, 100]) {
      const { ledger, balances } = simulate(rs, start);
      expect(checkBalances({ customers, startingBalance: start, ledger, observed: balances })).toMatchObject({ ok: true, problemCount: 0, customersChecked: 5 });
      if (start === 100) expect(ledger.totals().rejections).toBeGreaterThan(0);
    }
  });

  it('catches a lost redemption, an overdraft, a missing balance and a refusal while the points were there', () => {
    const { ledger, balances } = simulate(rs, 1000);
    const [a, b, c, d] = customers;
    balances.set(a, balances.get(a)! + 3);
    balances.set(b, -2);
    balances.delete(c);
    ledger.refused({ id: 'x', customer: d, points: 1 });
    const result = checkBalances({ customers, startingBalance: 1000, ledger, observed: balances });
    expect(result.ok).toBe(false);
    const text = result.problems.join('\n');
    expect(text).toContain(`${a}: balance`);
    expect(text).toContain(`${b}: overdrawn`);
    expect(text).toContain(`${c}: missing`);
    expect(text).toContain(`${d}: refused 1 points`);
  });
});

describe('options', () => {
  it('defaults to both workloads and every target at the durable and relaxed tiers', () => {
    expect(readLoyaltyOptions([])).toMatchObject({ workloads: ['contended', 'spread'], customers: { contended: 4, spread: 10_000 }, concurrency: 64, plan: { omnistream: ['fsync', 'commit'], postgres: ['on', 'off'], redis: ['always', 'everysec'] } });
    expect(readLoyaltyOptions(['--workloads', 'spread', '--targets', 'redis'])).toMatchObject({ workloads: ['spread'], plan: { omnistream: [], postgres: [], redis: ['always', 'everysec'] } });
    expect(() => readLoyaltyOptions(['--workloads', 'hot'])).toThrow(UsageError);
    expect(() => readLoyaltyOptions(['--redis-durability', 'sometimes'])).toThrow(UsageError);
  });
});

describe('omnistream target, tiny real run', () => {
  it('redeems until the points run out: refusals, none overdrawn, every balance as acknowledged', async () => {
    const target = await omnistreamLoyalty.start('fsync', { concurrency: 4 });
    try {
      const s: RedemptionShape = { customers: 2, maxPoints: 10, seed: 1 };
      // 2 × 12 points, ~5.5 a redemption: a handful of redemptions spend them, even on a slow machine.
      await target.seed(customersOf(s), 12);
      const r = await driveRedemptions(target, { shape: s, startingBalance: 12, concurrency: 4, warmupSeconds: 0.2, seconds: 1.5, idPrefix: 't' });
      expect(r.check).toMatchObject({ ok: true, customersChecked: 2 });
      expect(r.totals.redemptions).toBeGreaterThan(0);
      expect(r.totals.rejections).toBeGreaterThan(0);
      expect(r.totals.redeemedPoints).toBeLessThanOrEqual(24);
      expect(r.latency.count).toBe(r.ops);
      expect(r.opsPerS * r.seconds).toBeCloseTo(r.ops, 6);
    } finally {
      await target.stop();
    }
  });
});
