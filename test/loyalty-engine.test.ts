// Loyalty and coupons on the real engine, with one engine thread and with two: many
// connections redeeming the last points of one customer (by its different ids) and one
// single-use coupon at once, in one submission and across many; retries of the same event id;
// a refund sent right after its redemption's answer, and one in the same request as its
// redemption; customers racing with one redemption id; and the `--vip-points` setting.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readServeConfig } from '../cli/serve.ts';
import { defaultProcessors, openEngine, openThreadedEngine } from '../engine/mod.ts';
import type { EventResult } from '../engine/types.ts';
import { ANONYMOUS, mayRead, maySend, type Principal } from '../gateway/mod.ts';

const root = mkdtempSync(join(tmpdir(), 'omni-loyalty-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function open(threads: number) {
  const path = join(root, String(++n));
  return threads === 1 ? openEngine({ path, processors: defaultProcessors(), durability: 'none' }) : openThreadedEngine({ path, domains: {}, durability: 'none', threads });
}

const SUBJECTS = ['acct1', 'phone:+1', 'email:a@x'];

describe('races on the engine', () => {
  for (const threads of [1, 2]) {
    it(`${threads} engine thread(s): the last points are never overdrawn, a single-use coupon is used once, retries answer as the first time`, async () => {
      const engine = await open(threads);
      try {
        await engine.submit([
          { id: 'l1', type: 'identity.linked', ids: SUBJECTS },
          { id: 'earn1', type: 'loyalty.earned', subject: 'phone:+1', points: 10 },
          { id: 'k1', type: 'coupon.issued', coupon: 'K1', value: 5 },
        ]);
        // 12 connections, each sending a few redemptions of 3 points and a use of the coupon.
        const connections = Array.from({ length: 12 }, (_, c) =>
          engine.submit([
            { id: `red${c}a`, type: 'loyalty.redeemed', subject: SUBJECTS[c % 3], points: 3, redemption: `R${c}a` },
            { id: `use${c}`, type: 'coupon.redeemed', coupon: 'K1', subject: SUBJECTS[(c + 1) % 3] },
            { id: `red${c}b`, type: 'loyalty.redeemed', subject: SUBJECTS[(c + 2) % 3], points: 3, redemption: `R${c}b` },
          ]),
        );
        const answers = (await Promise.all(connections)).flat();
        const redemptions = answers.filter((a) => a.id?.startsWith('red'));
        const uses = answers.filter((a) => a.id?.startsWith('use'));
        expect(redemptions.filter((a) => a.ok)).toHaveLength(3);
        expect(redemptions.filter((a) => !a.ok && a.error.code === 'insufficient_points')).toHaveLength(21);
        expect(uses.filter((a) => a.ok)).toHaveLength(1);
        expect(uses.filter((a) => !a.ok && a.error.code === 'coupon_used')).toHaveLength(11);

        // A retry of each is a duplicate with the first answer, and changes nothing.
        const again = await engine.submit(answers.map((a) => ({ id: a.id, ...(a.id!.startsWith('red') ? { type: 'loyalty.redeemed', subject: 'x', points: 3, redemption: 'x' } : { type: 'coupon.redeemed', coupon: 'K1', subject: 'x' }) })));
        // A retry must carry the same event: a different body under a used id is refused, and is no second use either.
        expect(again.every((a) => a.ok === false)).toBe(true);
        const first = answers.find((a) => a.ok && a.id!.startsWith('red'))!;
        const byId = new Map(
          [...Array.from({ length: 12 }, (_, c) => [
            { id: `red${c}a`, type: 'loyalty.redeemed', subject: SUBJECTS[c % 3], points: 3, redemption: `R${c}a` },
            { id: `red${c}b`, type: 'loyalty.redeemed', subject: SUBJECTS[(c + 2) % 3], points: 3, redemption: `R${c}b` },
          ])].flat().map((e) => [e.id, e]),
        );
        const [retried] = await engine.submit([byId.get(first.id!)]);
        expect(retried).toEqual({ ...first, duplicate: true });

        await engine.idle();
        const record = engine.read('cu/pts/acct1') as { lots: Array<{ points: number }> };
        expect(record.lots.reduce((s, l) => s + l.points, 0)).toBe(1);
        expect(engine.read('lo/cp/K1')).toMatchObject({ uses: 1, maxUses: 1 });

        // The refund, sent as soon as the redemption was answered, finds it.
        const okRedemption = byId.get(first.id!)!.redemption;
        const [refund] = await engine.submit([{ id: 'ref1', type: 'loyalty.refunded', redemption: okRedemption }]);
        expect(refund).toMatchObject({ ok: true, customer: 'acct1', points: 3, balance: 4 });
      } finally {
        await engine.close();
      }
    });
  }

  for (const threads of [1, 2]) {
    it(`${threads} engine thread(s): a refund in the same request as its redemption finds it`, async () => {
      const engine = await open(threads);
      try {
        await engine.submit([{ id: 'e1', type: 'loyalty.earned', subject: 'device:d1', points: 20 }]);
        const answers = await engine.submit([
          { id: 'r1', type: 'loyalty.redeemed', subject: 'device:d1', points: 4, redemption: 'SAME1' },
          { id: 'f1', type: 'loyalty.refunded', redemption: 'SAME1' },
          { id: 'r2', type: 'loyalty.redeemed', subject: 'device:d1', points: 5, redemption: 'SAME2' },
          { id: 'r3', type: 'loyalty.redeemed', subject: 'device:d1', points: 6, redemption: 'SAME3' },
          { id: 'f3', type: 'loyalty.refunded', redemption: 'SAME3' },
          { id: 'f2', type: 'loyalty.refunded', redemption: 'SAME2' },
        ]);
        expect(answers.map((a) => [a.id, a.ok])).toEqual(['r1', 'f1', 'r2', 'r3', 'f3', 'f2'].map((id) => [id, true]));
        // Each refund gives back its own redemption (the later redemptions may come between, in either order).
        expect([answers[1], answers[4], answers[5]]).toMatchObject([4, 6, 5].map((points) => ({ customer: 'device:d1', points })));
        await engine.idle();
        expect((engine.read('cu/pts/device:d1') as { lots: Array<{ points: number }> }).lots.reduce((s, l) => s + l.points, 0)).toBe(20);
      } finally {
        await engine.close();
      }
    });
  }

  for (const threads of [1, 2]) {
    it(`${threads} engine thread(s): customers racing with one redemption id: one keeps it, the others are refused duplicate_redemption with nothing spent`, async () => {
      const engine = await open(threads);
      const customers = Array.from({ length: 12 }, (_, c) => `device:shared-${c}`);
      const balance = (c: string) => (engine.read(`cu/pts/${c}`) as { lots: Array<{ points: number }> }).lots.reduce((s, l) => s + l.points, 0);
      try {
        await engine.submit(customers.map((subject, k) => ({ id: `earn-${k}`, type: 'loyalty.earned', subject, points: 10 })));
        const answers = (await Promise.all(customers.map((subject, k) => engine.submit([{ id: `shared-${k}`, type: 'loyalty.redeemed', subject, points: 6, redemption: 'SHARED' }])))).flat();
        expect(answers.filter((a) => a.ok)).toHaveLength(1);
        expect(answers.filter((a) => !a.ok && a.error.code === 'duplicate_redemption')).toHaveLength(customers.length - 1);
        const winner = customers[answers.findIndex((a) => a.ok)];
        await engine.idle();
        for (const c of customers) expect(balance(c), c).toBe(c === winner ? 4 : 10);
        const [late] = await engine.submit([{ id: 'shared-late', type: 'loyalty.redeemed', subject: 'device:late', points: 1, redemption: 'SHARED' }]);
        expect(late).toMatchObject({ ok: false, error: { code: 'duplicate_redemption' } });
        const [refund] = await engine.submit([{ id: 'refund-shared', type: 'loyalty.refunded', redemption: 'SHARED' }]);
        expect(refund).toMatchObject({ ok: true, customer: winner, points: 6, balance: 10 });
      } finally {
        await engine.close();
      }
    });
  }

  it('a refund sent as soon as its redemption is answered always finds it', async () => {
    const engine = await open(2);
    try {
      await engine.submit([{ id: 'e1', type: 'loyalty.earned', subject: 'device:d1', points: 20 }]);
      const results: EventResult[] = [];
      for (let i = 0; i < 5; i++) {
        const [redeemed] = await engine.submit([{ id: `r${i}`, type: 'loyalty.redeemed', subject: 'device:d1', points: 4, redemption: `RD${i}` }]);
        const [refunded] = await engine.submit([{ id: `f${i}`, type: 'loyalty.refunded', redemption: `RD${i}` }]);
        results.push(redeemed, refunded);
      }
      expect(results.every((r) => r.ok)).toBe(true);
      await engine.idle();
      expect((engine.read('cu/pts/device:d1') as { lots: Array<{ points: number }> }).lots.reduce((s, l) => s + l.points, 0)).toBe(20);
    } finally {
      await engine.close();
    }
  });
});

describe('--vip-points', () => {
  it('is read from the flag and from OMNI_VIP_POINTS, off by default, refused when not a positive integer', () => {
    const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => readServeConfig(argv, env) as { customers: { vipPoints?: number } };
    expect(config([]).customers.vipPoints).toBeUndefined();
    expect(config(['--vip-points', '500']).customers.vipPoints).toBe(500);
    expect(config([], { OMNI_VIP_POINTS: '250' }).customers.vipPoints).toBe(250);
    expect(() => readServeConfig(['--vip-points', '0'], {})).toThrow(/--vip-points/);
    expect(() => readServeConfig(['--vip-points', 'lots'], {})).toThrow(/--vip-points/);
  });
});

describe('who reads loyalty/<customer> and sends loyalty events', () => {
  it('the customer itself, supervisors, admins and ingest (over HTTP) read it; nobody else does; only ingest and admin send points or coupons', () => {
    const who = (role: Principal['role'], sub = 'acct1'): Principal => ({ role, sub }) as Principal;
    const read = (p: Principal, transport: 'http' | 'ws' = 'ws') => mayRead(p, 'loyalty/acct1', { publicStock: true, transport });
    expect(read(who('customer'))).toBe(true);
    expect(read(who('customer', 'acct2'))).toBe(false);
    for (const role of ['supervisor', 'admin'] as const) expect(read(who(role, 'x'))).toBe(true);
    expect(read(who('ingest', 'x'), 'http')).toBe(true);
    for (const role of ['agent', 'kiosk', 'associate'] as const) expect(read(who(role))).toBe(false);
    expect(read(ANONYMOUS)).toBe(false);
    const earn = { id: 'e', type: 'loyalty.earned', subject: 'acct1', points: 1000 };
    expect(maySend(who('customer'), earn)).toBe(false);
    expect(maySend(who('customer'), { id: 'c', type: 'coupon.redeemed', coupon: 'K', subject: 'acct1' })).toBe(false);
    expect(maySend(who('ingest', 'pos'), earn)).toBe(true);
  });
});
