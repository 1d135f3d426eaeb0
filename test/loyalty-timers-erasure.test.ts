// Loyalty expiry timers and erasure, on the pure runner: a timer's id names its customer
// (`loyalty/<name>/<at>`), so an erasure cancels every one still pending under each of the
// customer's names — a spent lot's too, and those a merge moved to the survivor (the moved
// name's own are cancelled by the move). And an event that comes after a lot expired but before
// its timer fired records the expiry in the history, once.

import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { PureRunner } from './pure-harness.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function runner(): PureRunner {
  const r = new PureRunner([customerProcessor({}), stockProcessor(), wiredServiceProcessor({})]);
  r.now = T0;
  return r;
}

const loyaltyTimers = (r: PureRunner) => [...r.timers.keys()].filter((id) => id.startsWith('loyalty/')).sort();
const history = (r: PureRunner, name: string) => (r.state.get(`cu/pts/${name}`) as { history: Array<{ kind: string; points: number; time: number }> }).history;

describe('loyalty expiry timers', () => {
  it('customer.erased cancels every pending one, spent lots’ and moved ones’ included', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 5, expiresAt: T0 + HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'phone:+1', points: 9, expiresAt: T0 + 2 * HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'acct1', points: 3, expiresAt: T0 + 3 * HOUR });
    // Lots spent whole, on both names: their timers stay pending.
    expect(r.apply({ type: 'loyalty.redeemed', subject: 'phone:+1', points: 5, redemption: 'R1' }).result).toMatchObject({ ok: true });
    expect(r.apply({ type: 'loyalty.redeemed', subject: 'acct1', points: 3, redemption: 'R2' }).result).toMatchObject({ ok: true });
    expect(loyaltyTimers(r)).toHaveLength(3);
    r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1'] });
    // The survivor (acct1) holds the timers now: its spent lot's, and the moved lot's set again;
    // none is left under the name that moved.
    expect(loyaltyTimers(r)).toEqual([`loyalty/acct1/${T0 + 2 * HOUR}`, `loyalty/acct1/${T0 + 3 * HOUR}`]);
    expect(r.apply({ type: 'customer.erased', customer: 'phone:+1' }).result).toMatchObject({ ok: true });
    expect(loyaltyTimers(r)).toEqual([]);
  });

  it('an event after an expiry and before its timer records the expiry, and the timer does not again', () => {
    const r = runner();
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 10, expiresAt: T0 + HOUR });
    r.apply({ type: 'loyalty.earned', subject: 'c1', points: 2 });
    // Timed after the expiry, applied before the timer fires.
    expect(r.apply({ type: 'loyalty.earned', subject: 'c1', points: 1, ts: T0 + 2 * HOUR }).result).toMatchObject({ ok: true, balance: 3 });
    expect(history(r, 'c1').map((h) => h.kind)).toEqual(['earned', 'earned', 'expired', 'earned']);
    expect(history(r, 'c1')[2]).toMatchObject({ points: 10, time: T0 + HOUR });
    r.now = T0 + 2 * HOUR;
    r.fireDue();
    expect(history(r, 'c1').filter((h) => h.kind === 'expired')).toHaveLength(1);
    expect(loyaltyTimers(r)).toEqual([]);
  });
});
