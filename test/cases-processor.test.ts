// Cases on the pure service processor (with the customer domain for identities): opening and
// updating, every rejection (each leaving the state and timers as they were), the overdue alert
// raised once and never for a case resolved in time, a merge of two customers, the export query
// and an erasure.

import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { caseKeys, DEFAULT_DUE_MS, MAX_NOTES, type CustomerCases } from '../engine/service/cases/mod.ts';
import { PureRunner } from './pure-harness.ts';
import { ServiceRunner } from './service-harness.ts';

const open = (kase: string, subject: string, extra: Record<string, unknown> = {}) => ({
  type: 'case.opened',
  case: kase,
  subject,
  topic: 'refunds',
  team: 'billing',
  summary: `the refund of ${kase}`,
  ...extra,
});
const update = (kase: string, status: string, note?: string) => ({ type: 'case.updated', case: kase, status, ...(note !== undefined ? { note } : {}) });

function runner(): ServiceRunner {
  const r = new ServiceRunner();
  r.ok({ type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' });
  r.ok({ type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' });
  return r;
}

const overdue = (r: PureRunner) => r.messages.filter((m) => m.topic === 'alerts/service' && (m.data as { type: string }).type === 'case_overdue').map((m) => m.data);

describe('case.opened and case.updated', () => {
  it('open a case for the customer its subject names, keep notes with their times, and show them on cases/<customer>', () => {
    const r = runner();
    const opened = r.ok(open('k1', 'phone:+1', { request: 'q9', dueMs: 60_000 }));
    expect(opened.result).toMatchObject({ ok: true, case: 'k1', status: 'open', customer: 'c1', dueAt: r.now + 60_000 });
    expect(opened.changed).toEqual(['cases/c1']);
    r.now += 10;
    r.ok({ ...update('k1', 'pending', 'waiting for the bank'), ts: 5_000 });
    r.now += 10;
    const resolved = r.ok(update('k1', 'resolved', 'refunded'));
    expect(resolved.result).toMatchObject({ ok: true, case: 'k1', status: 'resolved' });
    expect(resolved.timers?.cancel).toEqual(['case/k1']);

    const shown = r.render('cases/c1') as CustomerCases;
    expect(shown).toEqual({
      customer: 'c1',
      cases: [
        {
          case: 'k1',
          subject: 'phone:+1',
          topic: 'refunds',
          team: 'billing',
          summary: 'the refund of k1',
          status: 'resolved',
          request: 'q9',
          openedAt: 1_000_000,
          dueAt: 1_060_000,
          updatedAt: 1_000_020,
          resolvedAt: 1_000_020,
          notes: [
            { at: 5_000, status: 'pending', text: 'waiting for the bank' },
            { at: 1_000_020, status: 'resolved', text: 'refunded' },
          ],
        },
      ],
    });
    // Any linked id names the same customer's cases.
    expect(r.render('cases/phone:+1')).toEqual(shown);
    expect(r.processor.query!(r.view, 'cases', { subject: 'phone:+1' })).toEqual(shown);
  });

  it('lists a customer’s cases newest first and defaults the due time to a day', () => {
    const r = runner();
    const first = r.ok(open('k1', 'c1'));
    expect(first.result).toMatchObject({ dueAt: r.now + DEFAULT_DUE_MS });
    r.now += 1;
    r.ok(open('k2', 'phone:+1'));
    expect(r.render('cases/c1').cases.map((k: { case: string }) => k.case)).toEqual(['k2', 'k1']);
    expect(r.render('cases/c2')).toEqual({ customer: 'c2', cases: [] });
  });

  it('refuses, changing nothing: a case id opened twice, an unknown case, any update of a resolved case, bad fields, too many notes', () => {
    const r = runner();
    r.ok(open('k1', 'c1'));
    r.rejects(open('k1', 'c2'), 'conflict');
    r.rejects(open('k1', 'c1'), 'conflict');
    r.rejects(update('nope', 'pending'), 'not_found');
    r.rejects(update('k1', 'closed'), 'invalid_event');
    r.rejects(open('k2', 'c1', { dueMs: 0 }), 'invalid_event');
    r.rejects(open('k2', 'c1', { dueMs: 1.5 }), 'invalid_event');
    r.rejects({ ...open('k2', 'c1'), summary: undefined }, 'invalid_event');
    r.rejects(open('k@2', 'c1'), 'invalid_event');
    r.rejects({ ...update('k1', 'pending'), extra: 1 }, 'invalid_event');
    for (let i = 0; i < MAX_NOTES; i++) r.ok(update('k1', 'pending', `note ${i}`));
    r.rejects(update('k1', 'open', 'one too many'), 'too_large');
    r.ok(update('k1', 'open'));
    r.ok(update('k1', 'resolved'));
    r.rejects(update('k1', 'open'), 'invalid_transition');
    r.rejects(update('k1', 'resolved', 'again'), 'invalid_transition');
    r.rejects(open('k1', 'c1'), 'conflict');
  });

  it('keeps a case whose subject names nobody on no customer’s list', () => {
    const r = runner();
    const opened = r.ok(open('k1', 'anonymous', { dueMs: 5 }));
    expect(opened.result).not.toHaveProperty('customer');
    expect(opened.changed).toEqual([]);
    expect(r.render('cases/anonymous')).toBeUndefined();
    r.advance(5);
    expect(overdue(r)).toEqual([{ type: 'case_overdue', case: 'k1', team: 'billing', dueAt: 1_000_005 }]);
  });
});

describe('the overdue timer', () => {
  it('raises case_overdue on alerts/service once at the due time; updates do not move it', () => {
    const r = runner();
    r.ok(open('k1', 'phone:+2', { dueMs: 1_000 }));
    r.advance(500);
    r.ok(update('k1', 'pending', 'asked the warehouse'));
    expect(r.timers.get('case/k1')?.at).toBe(1_001_000);
    r.advance(499);
    expect(overdue(r)).toEqual([]);
    r.advance(1);
    expect(overdue(r)).toEqual([{ type: 'case_overdue', case: 'k1', customer: 'c2', team: 'billing', dueAt: 1_001_000 }]);
    expect(r.render('cases/c2').cases[0]).toMatchObject({ status: 'pending', overdue: true });
    r.advance(DEFAULT_DUE_MS);
    r.ok(update('k1', 'open', 'still nothing'));
    r.advance(DEFAULT_DUE_MS);
    expect(overdue(r)).toHaveLength(1);
    // A stale firing of the same timer (at-least-once delivery) raises nothing either.
    r.timers.set('case/k1', { id: 'case/k1', at: 1_001_000, data: { kind: 'case', case: 'k1' } });
    r.fire('case/k1');
    expect(overdue(r)).toHaveLength(1);
  });

  it('raises nothing for a case resolved before its due time', () => {
    const r = runner();
    r.ok(open('k1', 'c1', { dueMs: 1_000 }));
    r.advance(999);
    r.ok(update('k1', 'resolved'));
    expect(r.timers.has('case/k1')).toBe(false);
    r.advance(10_000);
    expect(overdue(r)).toEqual([]);
    // Even were the timer to fire after all.
    r.timers.set('case/k1', { id: 'case/k1', at: 1_001_000, data: { kind: 'case', case: 'k1' } });
    r.fire('case/k1');
    expect(overdue(r)).toEqual([]);
  });
});

describe('a merge of two customers', () => {
  it('brings the merged-away customer’s cases to the survivor, by opening time, and names it in later alerts', () => {
    const r = runner();
    r.ok(open('a1', 'c1', { dueMs: 10_000 }));
    r.now += 1;
    r.ok(open('b1', 'c2', { dueMs: 10_000 }));
    r.now += 1;
    r.ok(open('a2', 'phone:+1', { dueMs: 10_000 }));
    r.clearMessages();
    const linked = r.ok({ type: 'identity.linked', ids: ['phone:+1', 'phone:+2'] });
    expect(linked.result.ok).toBe(true);
    const merged = r.render('cases/phone:+2') as CustomerCases;
    const survivor = merged.customer;
    const gone = survivor === 'c1' ? 'c2' : 'c1';
    expect(merged.cases.map((k) => k.case)).toEqual(['a2', 'b1', 'a1']);
    expect(r.render(`cases/${gone}`)).toEqual(merged);
    expect(r.state.has(caseKeys.customerCases(gone))).toBe(false);
    // Updates of a case opened under the merged-away customer show on the survivor's topic.
    const later = r.ok(update(survivor === 'c1' ? 'b1' : 'a1', 'pending', 'merged'));
    expect(later.changed).toEqual([`cases/${survivor}`]);
    r.advance(10_000);
    expect(overdue(r).map((a: any) => [a.case, a.customer])).toEqual([
      ['a1', survivor],
      ['b1', survivor],
      ['a2', survivor],
    ]);
  });
});

describe('erasure', () => {
  it('customer.erased removes the customer’s cases, their overdue timers and its list; others stay', () => {
    const r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()]);
    const service = r.ownerOf('case.opened');
    const ok = (ev: Record<string, unknown>) => expect(r.apply(ev as never).result).toMatchObject({ ok: true });
    ok({ type: 'identity.linked', ids: ['phone:+1'], customer: 'c1' });
    ok({ type: 'identity.linked', ids: ['phone:+2'], customer: 'c2' });
    ok(open('k1', 'phone:+1', { dueMs: 1_000 }));
    ok(update('k1', 'pending', 'a note about c1'));
    ok(open('k2', 'c1'));
    ok(open('k3', 'c2', { dueMs: 1_000 }));
    expect((service.query!(r.view, 'cases', { subject: 'c1' }) as CustomerCases).cases).toHaveLength(2);

    ok({ id: 'erase', type: 'customer.erased', customer: 'phone:+1' });
    r.drain();
    expect(r.answers.get('erase')).toMatchObject({ ok: true, erased: { cases: 2 } });
    expect([...r.state.keys()].filter((k) => k.startsWith('svc/case'))).toEqual([caseKeys.case('k3'), caseKeys.customerCases('c2')]);
    expect([...r.timers.keys()].filter((t) => t.startsWith('case/'))).toEqual(['case/k3']);
    expect(JSON.stringify([...r.state.values()])).not.toContain('a note about c1');
    expect((service.query!(r.view, 'cases', { subject: 'c2' }) as CustomerCases).cases.map((k) => k.case)).toEqual(['k3']);
  });
});
