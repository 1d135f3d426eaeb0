// Loyalty points and coupons on the pure runner: every event and rejection, the oldest points
// spent first and expiries on their timers, refunds (also after a merge), one balance after
// merges in any order of links and earnings across partitions (a property), coupon rules with a
// restriction that follows a merge, races of many redemptions of the last points and of a
// single-use coupon, erasure, and the vip tier by points.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { profileWithPoints } from '../engine/customers/mod.ts';
import { ownerOfKey } from '../engine/customers/partitioning.ts';
import type { AppliedStep } from '../engine/pure-runner.ts';
import type { InputEvent } from '../engine/types.ts';
import { allBut, PureRunner } from './pure-harness.ts';
import { FC_SEED } from './service-harness.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function runner(options: { vipPoints?: number; onStep?: (s: AppliedStep) => void } = {}): PureRunner {
  const r = new PureRunner([customerProcessor({ vipPoints: options.vipPoints }), stockProcessor(), wiredServiceProcessor({}, undefined, options.vipPoints)], { onStep: options.onStep });
  r.now = T0;
  return r;
}

type Ev = Omit<InputEvent, 'id'> & { id?: string };
const result = (r: PureRunner, ev: Ev) => r.apply(ev).result as Record<string, any>;
const code = (r: PureRunner, ev: Ev) => (r.apply(ev).result as { error?: { code: string } }).error?.code;
const balance = (r: PureRunner, subject: string) => (r.render(`loyalty/${subject}`) as { balance: number } | undefined)?.balance;
const loyaltyKeys = (r: PureRunner) => [...r.state.keys()].filter((k) => k.startsWith('cu/pts/') || k.startsWith('lo/rd/'));

/** Applies a queued step of a random partition, oldest first within its partition, as partitions run independently. */
function randomStep(r: PureRunner, pick: (n: number) => number): void {
  const keyOf = (ev: InputEvent) => {
    try {
      return r.ownerOf(ev.type).partitionKey(ev);
    } catch {
      return ev.id;
    }
  };
  const key = keyOf(r.queue[pick(r.queue.length)]);
  const first = r.queue.findIndex((ev) => keyOf(ev) === key);
  r.queue.unshift(...r.queue.splice(first, 1));
  r.step();
}

describe('loyalty points', () => {
  it('earns, answers the balance and shows it on loyalty/<customer>', () => {
    const r = runner();
    expect(result(r, { type: 'loyalty.earned', subject: 'c1', points: 10, reason: 'signup' })).toEqual({ ok: true, customer: 'c1', balance: 10 });
    expect(result(r, { type: 'loyalty.earned', subject: 'c1', points: 5, expiresAt: r.now + HOUR })).toMatchObject({ balance: 15 });
    expect(r.render('loyalty/c1')).toEqual({ customer: 'c1', balance: 15, expiring: [{ points: 5, at: r.now + HOUR }], tier: 'standard' });
    expect(r.render('loyalty/nobody')).toBeUndefined();
  });

  it('refuses bad input: no points, points not an integer, an expiry already past, a blocked subject', () => {
    const r = runner();
    expect(code(r, { type: 'loyalty.earned', subject: 'c1', points: 0 })).toBe('invalid_event');
    expect(code(r, { type: 'loyalty.earned', subject: 'c1', points: 1.5 })).toBe('invalid_event');
    expect(code(r, { type: 'loyalty.earned', subject: 'c1', points: 3, expiresAt: r.now })).toBe('invalid_event');
    expect(code(r, { type: 'loyalty.earned', subject: 'anonymous', points: 3 })).toBe('invalid_event');
    expect(code(r, { type: 'loyalty.redeemed', subject: 'c1', points: 3 })).toBe('invalid_event');
    expect(loyaltyKeys(r)).toEqual([]);
  });

  it('redeems only what the balance covers, oldest points first', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10, expiresAt: r.now + HOUR });
    r.now += 1000;
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 5, expiresAt: r.now + 5 * HOUR });
    const refused = result(r, { type: 'loyalty.redeemed', subject: 'c1', points: 16, redemption: 'R1' });
    expect(refused.error).toMatchObject({ code: 'insufficient_points', wanted: 16, available: 15 });
    expect(result(r, { type: 'loyalty.redeemed', subject: 'c1', points: 12, redemption: 'R1' })).toEqual({ ok: true, customer: 'c1', balance: 3 });
    // The older lot (expiring first here) went whole, the newer one kept 3.
    expect(r.render('loyalty/c1').expiring).toEqual([{ points: 3, at: T0 + 1000 + 5 * HOUR }]);
    expect(code(r, { type: 'loyalty.redeemed', subject: 'c1', points: 1, redemption: 'R1' })).toBe('conflict');
    expect(code(r, { type: 'loyalty.redeemed', subject: 'nobody', points: 1, redemption: 'R2' })).toBe('insufficient_points');
  });

  it('points expire on their timer; an event timed after an expiry no longer counts those points', () => {
    const r = runner();
    const t0 = r.now;
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10, expiresAt: t0 + HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 4, expiresAt: t0 + 2 * HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 1 });
    expect(code(r, { type: 'loyalty.redeemed', subject: 'c1', points: 6, redemption: 'R0', ts: t0 + HOUR })).toBe('insufficient_points');
    r.now = t0 + HOUR;
    expect(r.fireDue()).toBeGreaterThan(0);
    expect(r.render('loyalty/c1')).toMatchObject({ balance: 5, expiring: [{ points: 4, at: t0 + 2 * HOUR }] });
    r.now = t0 + 3 * HOUR;
    r.fireDue();
    expect(balance(r, 'c1')).toBe(1);
    const history = (r.state.get('cu/pts/c1') as { history: Array<{ kind: string; points: number }> }).history;
    expect(history.filter((h) => h.kind === 'expired').map((h) => h.points)).toEqual([10, 4]);
  });

  it('a refund gives the redemption back once; unknown ones are refused', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10 });
    r.apply({ type: 'loyalty.redeemed', subject: 'c1', points: 8, redemption: 'R1' });
    expect(result(r, { type: 'loyalty.refunded', redemption: 'R1' })).toEqual({ ok: true, customer: 'c1', points: 8, expired: 0, balance: 10 });
    expect(code(r, { type: 'loyalty.refunded', redemption: 'R1' })).toBe('unknown_redemption');
    expect(code(r, { type: 'loyalty.refunded', redemption: 'R9' })).toBe('unknown_redemption');
    expect(balance(r, 'c1')).toBe(10);
  });

  it('a redemption id another customer already used is refused duplicate_redemption: nothing spent, the refund still reaches the first customer', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10 });
    r.apply({ type: 'loyalty.earned', subject: 'c2', points: 10 });
    r.apply({ type: 'loyalty.redeemed', subject: 'c1', points: 4, redemption: 'R1' });
    expect(result(r, { type: 'loyalty.redeemed', subject: 'c2', points: 6, redemption: 'R1' }).error).toMatchObject({ code: 'duplicate_redemption' });
    expect(balance(r, 'c2')).toBe(10);
    expect(result(r, { type: 'loyalty.refunded', redemption: 'R1' })).toMatchObject({ ok: true, customer: 'c1', points: 4, balance: 10 });
    expect(balance(r, 'c2')).toBe(10);
    // The first customer using its id again is a conflict, as before.
    expect(code(r, { type: 'loyalty.redeemed', subject: 'c1', points: 1, redemption: 'R1' })).toBe('conflict');
  });

  it('two customers redeeming one id at once: the second to reach the index gets its points back, then duplicate_redemption', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10, expiresAt: r.now + HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'c2', points: 10, expiresAt: r.now + HOUR });
    r.autoDrain = false;
    // Both spend before either index step runs.
    r.apply({ id: 'first', type: 'loyalty.redeemed', subject: 'c1', points: 4, redemption: 'R1' });
    r.apply({ id: 'second', type: 'loyalty.redeemed', subject: 'c2', points: 7, redemption: 'R1' });
    expect(balance(r, 'c2')).toBe(3);
    r.drain();
    expect(r.answers.get('first')).toEqual({ ok: true, customer: 'c1', balance: 6 });
    expect(r.answers.get('second')).toMatchObject({ ok: false, error: { code: 'duplicate_redemption' } });
    expect(r.render('loyalty/c2')).toMatchObject({ balance: 10, expiring: [{ points: 10, at: T0 + HOUR }] });
    const record = r.state.get('cu/pts/c2') as { redemptions: Record<string, unknown>; history: Array<{ kind: string }> };
    expect(record.redemptions).toEqual({});
    expect(record.history.map((h) => h.kind)).toEqual(['earned']);
    r.autoDrain = true;
    expect(result(r, { type: 'loyalty.refunded', redemption: 'R1' })).toMatchObject({ ok: true, customer: 'c1', points: 4, balance: 10 });
    expect(balance(r, 'c2')).toBe(10);
    // The withdrawn lots expire on their timer as before.
    r.now += 2 * HOUR;
    r.fireDue();
    expect(balance(r, 'c2')).toBe(0);
  });

  it('a customer erased while its redemption under a reused id awaits withdrawal: the first customer keeps its index, nothing of the erased one is written again', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10 });
    r.apply({ type: 'loyalty.earned', subject: 'c2', points: 10 });
    r.autoDrain = false;
    r.apply({ id: 'first', type: 'loyalty.redeemed', subject: 'c1', points: 4, redemption: 'R1' });
    r.apply({ id: 'second', type: 'loyalty.redeemed', subject: 'c2', points: 7, redemption: 'R1' });
    // Both index steps run; c2's withdrawal waits while c2 is erased.
    r.step();
    r.step();
    expect(r.queue.map((e) => e.type)).toEqual(['customer.answered', 'customer.forwarded']);
    r.apply({ type: 'customer.erased', customer: 'c2' });
    allBut(r, 'customer.forwarded');
    r.drain();
    expect(r.answers.get('second')).toMatchObject({ ok: false, error: { code: 'duplicate_redemption' } });
    expect(loyaltyKeys(r).sort()).toEqual(['cu/pts/c1', 'lo/rd/R1']);
    r.autoDrain = true;
    expect(result(r, { type: 'loyalty.refunded', redemption: 'R1' })).toMatchObject({ ok: true, customer: 'c1', points: 4, balance: 10 });
  });

  it('a refund after a merge reaches the survivor; spent points whose expiry passed are not given back', () => {
    const r = runner();
    r.apply({ type: 'customer.profile', customer: 'acct1', tier: 'standard' });
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 6, expiresAt: r.now + HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 4 });
    r.apply({ type: 'loyalty.redeemed', subject: 'phone:+1', points: 8, redemption: 'R1' });
    r.apply({ type: 'loyalty.earned', subject: 'acct1', points: 1 });
    r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1'] });
    expect(balance(r, 'acct1')).toBe(3);
    r.now += 2 * HOUR;
    expect(result(r, { type: 'loyalty.refunded', redemption: 'R1' })).toMatchObject({ ok: true, customer: 'acct1', points: 2, expired: 6, balance: 5 });
    expect(balance(r, 'phone:+1')).toBe(5);
  });
});

describe('one balance across merges', () => {
  it('random interleavings of two customers’ earnings and redemptions with a link: the survivor holds the sum, counted once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ subject: fc.constantFrom('phone:+1', 'email:a@x', 'acct1'), points: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        (earnings, linkAt, known, draws) => {
          let d = 0;
          const pick = (n: number) => draws[d++ % draws.length] % n;
          const steps: AppliedStep[] = [];
          const r = runner({ onStep: (s) => steps.push(s) });
          // Known customers merge; unknown ids are attached.
          if (known) for (const c of ['acct1', 'phone:+1']) r.apply({ type: 'customer.profile', customer: c, tier: 'standard' });
          r.autoDrain = false;
          const sent = earnings.map((e) => ({ type: 'loyalty.earned', ...e }));
          sent.splice(Math.min(linkAt, sent.length), 0, { type: 'identity.linked', ids: ['acct1', 'phone:+1', 'email:a@x'] } as never);
          for (const ev of sent) {
            r.apply(ev);
            while (r.queue.length > 0 && pick(3) === 0) randomStep(r, pick);
          }
          while (r.queue.length > 0) randomStep(r, pick);
          const sum = earnings.reduce((s, e) => s + e.points, 0);
          const survivor = r.render('loyalty/email:a@x') as { customer: string; balance: number };
          expect(survivor.balance).toBe(sum);
          expect(loyaltyKeys(r)).toEqual([`cu/pts/${survivor.customer}`]);
          for (const s of ['phone:+1', 'acct1']) expect(balance(r, s)).toBe(sum);
          for (const s of steps) for (const [key] of s.effects.writes ?? []) if (ownerOfKey(key) !== undefined) expect(ownerOfKey(key), `${s.event?.type} wrote ${key}`).toBe(s.key);
        },
      ),
      { seed: FC_SEED, numRuns: 150 },
    );
  });
});

describe('coupons', () => {
  it('issue and use, with every refusal', () => {
    const r = runner();
    expect(result(r, { type: 'coupon.issued', coupon: 'K1', value: 5 })).toEqual({ ok: true, coupon: 'K1', maxUses: 1 });
    expect(code(r, { type: 'coupon.issued', coupon: 'K1' })).toBe('conflict');
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K9', subject: 'c1' })).toBe('unknown_coupon');
    expect(result(r, { type: 'coupon.redeemed', coupon: 'K1', subject: 'c1', order: 'o1' })).toEqual({ ok: true, coupon: 'K1', value: 5, uses: 1, maxUses: 1 });
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K1', subject: 'c2' })).toBe('coupon_used');
    r.apply({ type: 'coupon.issued', coupon: 'K2', validUntil: r.now + HOUR, maxUses: 2 });
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K2', subject: 'c1', ts: r.now + 2 * HOUR })).toBe('coupon_expired');
    expect(result(r, { type: 'coupon.redeemed', coupon: 'K2', subject: 'c1' }).ok).toBe(true);
    expect(result(r, { type: 'coupon.redeemed', coupon: 'K2', subject: 'c1' }).uses).toBe(2);
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K2', subject: 'c1' })).toBe('coupon_used');
    expect(code(r, { type: 'coupon.issued', coupon: 'K3', maxUses: 0 })).toBe('invalid_event');
    expect(code(r, { type: 'coupon.issued', coupon: 'K3', subject: 'anonymous' })).toBe('invalid_event');
    // Optional fields sent as null are as absent.
    expect(result(r, { type: 'coupon.issued', coupon: 'K4', value: null, subject: null, validUntil: null, maxUses: null })).toEqual({ ok: true, coupon: 'K4', maxUses: 1 });
    expect(result(r, { type: 'coupon.redeemed', coupon: 'K4', subject: 'c9', order: null })).toEqual({ ok: true, coupon: 'K4', uses: 1, maxUses: 1 });
    expect(result(r, { type: 'loyalty.earned', subject: 'c9', points: 2, expiresAt: null, reason: null, order: null })).toEqual({ ok: true, customer: 'c9', balance: 2 });
  });

  it('a coupon restricted to a customer: another customer is forbidden, any id merged into it may use it', () => {
    const r = runner();
    r.apply({ type: 'customer.profile', customer: 'acct1', tier: 'standard' });
    r.apply({ type: 'coupon.issued', coupon: 'K1', subject: 'acct1', maxUses: 3 });
    r.apply({ type: 'coupon.issued', coupon: 'K2', subject: 'phone:+2', maxUses: 3 });
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K1', subject: 'phone:+1' })).toBe('forbidden');
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K2', subject: 'acct1' })).toBe('forbidden');
    r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1', 'phone:+2'] });
    expect(result(r, { type: 'coupon.redeemed', coupon: 'K1', subject: 'phone:+1' }).ok).toBe(true);
    expect(result(r, { type: 'coupon.redeemed', coupon: 'K2', subject: 'acct1' }).ok).toBe(true);
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K1', subject: 'phone:+9' })).toBe('forbidden');
  });
});

describe('races', () => {
  it('many redemptions of the last points, from several ids of one customer, in one batch and across batches: never overdrawn', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      let x = seed;
      const pick = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
      const r = runner();
      r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1', 'email:a@x'] });
      r.apply({ type: 'loyalty.earned', subject: 'acct1', points: 10 });
      r.autoDrain = false;
      const subjects = ['acct1', 'phone:+1', 'email:a@x'];
      const ids = Array.from({ length: 30 }, (_, i) => `red${i}`);
      const direct = new Map<string, unknown>();
      ids.forEach((id, i) => {
        const first = r.apply({ id, type: 'loyalty.redeemed', subject: subjects[i % 3], points: 3, redemption: `R${i}` }).result;
        if (!('pending' in first)) direct.set(id, first);
        if (pick(4) === 0) while (r.queue.length > 0) randomStep(r, pick);
      });
      while (r.queue.length > 0) randomStep(r, pick);
      // Redemptions by the customer's own name are answered at once (a refusal) or once noted; the others once forwarded.
      const answers = ids.map((id) => (direct.get(id) ?? r.answers.get(id)) as { ok: boolean; error: { code: string } } | undefined);
      expect(answers.filter((a) => a?.ok)).toHaveLength(3);
      expect(answers.filter((a) => a?.ok === false && a.error.code === 'insufficient_points')).toHaveLength(27);
      expect(balance(r, 'acct1')).toBe(1);
      const record = r.state.get('cu/pts/acct1') as { redemptions: Record<string, unknown> };
      expect(Object.keys(record.redemptions)).toHaveLength(3);
    }
  });

  it('a single-use coupon redeemed by many connections at once: one use', () => {
    const r = runner();
    r.apply({ type: 'coupon.issued', coupon: 'K1', value: 5 });
    r.autoDrain = false;
    const outcomes = Array.from({ length: 20 }, (_, i) => code(r, { type: 'coupon.redeemed', coupon: 'K1', subject: `c${i}` }) ?? 'ok');
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'coupon_used')).toHaveLength(19);
  });
});

describe('erasure and the vip tier', () => {
  it('customer.erased removes the balance, its history, its redemptions’ index and the coupons restricted to it, across a merge', () => {
    const steps: AppliedStep[] = [];
    const r = runner({ onStep: (s) => steps.push(s) });
    r.apply({ type: 'customer.profile', customer: 'acct1', tier: 'standard' });
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 9, expiresAt: r.now + HOUR });
    r.apply({ type: 'loyalty.redeemed', subject: 'phone:+1', points: 2, redemption: 'R1' });
    r.apply({ type: 'loyalty.earned', subject: 'acct1', points: 3 });
    r.apply({ type: 'loyalty.redeemed', subject: 'acct1', points: 1, redemption: 'R2' });
    r.apply({ type: 'coupon.issued', coupon: 'K1', subject: 'phone:+1' });
    r.apply({ type: 'coupon.issued', coupon: 'K0', subject: 'device:other' });
    r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1'] });
    r.apply({ type: 'coupon.issued', coupon: 'K2', subject: 'acct1', maxUses: 2 });
    expect(loyaltyKeys(r).sort()).toEqual(['cu/pts/acct1', 'cu/pts/device:other', 'lo/rd/R1', 'lo/rd/R2']);
    expect((r.state.get('cu/pts/acct1') as { coupons: string[] }).coupons.sort()).toEqual(['K1', 'K2']);
    expect(result(r, { type: 'customer.erased', customer: 'phone:+1' }).ok).toBe(true);
    expect(loyaltyKeys(r)).toEqual(['cu/pts/device:other']);
    // Its coupons went with it: the same phone number, a new customer now, cannot use them.
    expect([...r.state.keys()].filter((k) => k.startsWith('lo/cp/'))).toEqual(['lo/cp/K0']);
    expect(code(r, { type: 'coupon.redeemed', coupon: 'K1', subject: 'phone:+1' })).toBe('unknown_coupon');
    // Every step wrote only keys its own partition owns.
    for (const s of steps) for (const [key] of s.effects.writes ?? []) if (ownerOfKey(key) !== undefined) expect(ownerOfKey(key), `${s.event?.type} wrote ${key}`).toBe(s.key);
    expect(r.render('loyalty/acct1')).toBeUndefined();
    expect(code(r, { type: 'loyalty.refunded', redemption: 'R1' })).toBe('unknown_redemption');
    // Its expiry timer finds nothing to expire; a later earning starts a new customer from zero.
    r.now += 2 * HOUR;
    r.fireDue();
    expect(loyaltyKeys(r)).toEqual(['cu/pts/device:other']);
    expect(result(r, { type: 'loyalty.earned', subject: 'phone:+1', points: 1 }).balance).toBe(1);
  });

  it('a subject known only by its points is erased too', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'device:d1', points: 4 });
    expect(result(r, { type: 'customer.erased', customer: 'device:d1' }).ok).toBe(true);
    expect(loyaltyKeys(r)).toEqual([]);
  });

  it('with vipPoints a balance that reaches it makes the customer vip for routing, and the topic says so', () => {
    const r = runner({ vipPoints: 100 });
    r.apply({ type: 'customer.profile', customer: 'acct1', tier: 'standard' });
    r.apply({ type: 'loyalty.earned', subject: 'acct1', points: 99 });
    const profile = profileWithPoints(100);
    expect(profile(r.view, 'acct1')?.tier).toBe('standard');
    expect(r.render('loyalty/acct1').tier).toBe('standard');
    r.apply({ type: 'loyalty.earned', subject: 'acct1', points: 1 });
    expect(profile(r.view, 'acct1')?.tier).toBe('vip');
    expect(r.render('loyalty/acct1').tier).toBe('vip');
    expect(profileWithPoints(undefined)(r.view, 'acct1')?.tier).toBe('standard');
    r.apply({ type: 'loyalty.redeemed', subject: 'acct1', points: 50, redemption: 'R1' });
    expect(profile(r.view, 'acct1')?.tier).toBe('standard');
  });
});

describe('the data-subject export', () => {
  it('lists the balance, its lots, history and restricted coupons of the customer, merged or known only by its points', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'device:d1', points: 4, reason: 'visit' });
    const customers = r.ownerOf('identity.linked');
    expect(customers.query!(r.view, 'export', { subject: 'device:d1' })).toMatchObject({ customer: 'device:d1', loyalty: { balance: 4, history: [{ kind: 'earned', points: 4, reason: 'visit' }] } });
    r.apply({ type: 'customer.profile', customer: 'acct1', tier: 'standard' });
    r.apply({ type: 'coupon.issued', coupon: 'K1', subject: 'acct1' });
    r.apply({ type: 'identity.linked', ids: ['acct1', 'device:d1'] });
    r.apply({ type: 'loyalty.redeemed', subject: 'acct1', points: 1, redemption: 'R1' });
    const exported = customers.query!(r.view, 'export', { subject: 'device:d1' }) as { customer: string; loyalty: { balance: number; history: Array<{ kind: string }>; coupons: unknown[] } };
    expect(exported.customer).toBe('acct1');
    expect(exported.loyalty.balance).toBe(3);
    expect(exported.loyalty.history.map((h) => h.kind)).toEqual(['earned', 'redeemed']);
    // Each coupon as issued and used so far, read from its own partition's record.
    expect(exported.loyalty.coupons).toEqual([{ coupon: 'K1', subject: 'acct1', maxUses: 1, uses: 0, issued: expect.any(Number) }]);
  });
});

describe('--vip-points in service routing', () => {
  it('a request of a customer whose balance reached the threshold is queued as vip, below it as standard', () => {
    const r = runner({ vipPoints: 100 });
    r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1'] });
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 100 });
    r.apply({ type: 'loyalty.earned', subject: 'acct2', points: 99 });
    r.apply({ type: 'service.requested', request: 'q1', subject: 'phone:+1', channel: 'chat', topic: 'billing' });
    r.apply({ type: 'service.requested', request: 'q2', subject: 'acct2', channel: 'chat', topic: 'billing' });
    const requests = [...r.state.values()].filter((v): v is { id: string; vip: boolean } => typeof v === 'object' && v !== null && 'vip' in v && 'enqueuedAt' in v);
    expect(Object.fromEntries(requests.map((q) => [q.id, q.vip]))).toEqual({ q1: true, q2: false });
  });
});

describe('loyalty/ topics of every customer id', () => {
  it('a change made by one id shows on the topics of the customer’s other customer ids, each changed on its own partition', () => {
    const steps: AppliedStep[] = [];
    const r = runner({ onStep: (s) => steps.push(s) });
    r.apply({ type: 'identity.linked', ids: ['acct1', 'member-7', 'phone:+1'] });
    steps.length = 0;
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 5 });
    r.apply({ type: 'loyalty.redeemed', subject: 'acct1', points: 2, redemption: 'R1' });
    const changed = steps.flatMap((s) => (s.effects.changed ?? []).map((topic) => [topic, s.key]));
    // Each topic is marked changed on the partition its name keys; member-7 once per change.
    for (const [topic, key] of changed) expect(topic.slice(topic.indexOf('/') + 1), topic).toBe(key);
    expect(changed.filter(([t]) => t === 'loyalty/member-7')).toHaveLength(2);
    expect(changed.filter(([t]) => t === 'loyalty/phone:+1')).toHaveLength(1);
    expect(r.render('loyalty/member-7')).toMatchObject({ customer: 'acct1', balance: 3 });
  });
});
