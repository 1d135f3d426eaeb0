// `customer.erased` on the pure runner: every record holding the customer goes (ids, profile,
// merge history, sessions and their logs, its entries in the items' indexes, order summaries,
// service requests and their messages), orders keep status and lines without `customer`,
// anonymous counts stay, and an erasure racing a merge of the same customer ends consistent.

import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { allBut, PureRunner } from './pure-harness.ts';

const T0 = Date.UTC(2026, 0, 1);

function runner(): PureRunner {
  const r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()]);
  r.apply({ type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 2 });
  r.apply({ type: 'stock.received', sku: 'A', location: 'S1', qty: 9 });
  r.apply({ type: 'stock.received', sku: 'B', location: 'S1', qty: 9 });
  return r;
}

function ok(r: PureRunner, ev: Record<string, unknown>): Record<string, unknown> {
  const effects = r.apply(ev as never);
  const result = (effects.result as { pending?: boolean }).pending ? r.answers.get(ev.id as string) : effects.result;
  expect(result, `${JSON.stringify(ev)} → ${JSON.stringify(result)}`).toMatchObject({ ok: true });
  return result as Record<string, unknown>;
}

/** Every stored key and value, as text, for "nothing holds X" checks. */
const dump = (r: PureRunner) => [...r.state].map(([k, v]) => `${k}=${JSON.stringify(v)}`);
const holding = (r: PureRunner, needle: string) => dump(r).filter((line) => line.includes(needle));

/** A customer `acct1` with `phone:+1` merged into it, `device:d1` linked, sessions, two orders, a request with messages. */
function richCustomer(r: PureRunner): void {
  ok(r, { id: 'v1', type: 'activity.viewed', subject: 'phone:+1', sku: 'A', channel: 'web', ts: T0 });
  ok(r, { id: 'v2', type: 'activity.carted', subject: 'phone:+1', sku: 'B', channel: 'web', ts: T0 + 1000 });
  ok(r, { id: 'p1', type: 'customer.profile', customer: 'acct1', tier: 'vip', language: 'de' });
  ok(r, { id: 'v3', type: 'activity.viewed', subject: 'acct1', sku: 'A', channel: 'app', ts: T0 + 2000 });
  // A second session of acct1, an hour later.
  ok(r, { id: 'v4', type: 'activity.viewed', subject: 'acct1', sku: 'B', channel: 'app', ts: T0 + 3_600_000 });
  ok(r, { id: 'o1', type: 'order.placed', order: 'o1', customer: 'phone:+1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' });
  ok(r, { id: 'l1', type: 'identity.linked', ids: ['acct1', 'phone:+1', 'device:d1'] });
  ok(r, { id: 'o2', type: 'order.placed', order: 'o2', customer: 'acct1', lines: [{ sku: 'B', qty: 2 }], pickup: 'S1' });
  ok(r, { id: 'f2', type: 'order.fulfilled', order: 'o2' });
  ok(r, { id: 'ag', type: 'agent.online', agent: 'ag1', skills: { billing: 5 }, capacity: { chat: 2 }, languages: ['de'] });
  ok(r, { id: 'q1', type: 'service.requested', request: 'q1', subject: 'device:d1', channel: 'chat', topic: 'billing' });
  ok(r, { id: 'q1a', type: 'service.accepted', request: 'q1', agent: 'ag1' });
  ok(r, { id: 'm1', type: 'service.message', request: 'q1', from: 'customer', text: 'my phone is +1' });
  ok(r, { id: 'm2', type: 'service.message', request: 'q1', from: 'agent', text: 'noted' });
  ok(r, { id: 'k1', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'phone:+1' });
  // Someone else, who must be untouched.
  ok(r, { id: 'x1', type: 'activity.viewed', subject: 'other', sku: 'A', channel: 'web', ts: T0 + 5000 });
}

const customerIds = ['acct1', 'phone:+1', 'device:d1'];

describe('customer.erased', () => {
  it('erases every record of a merged customer; orders and anonymous counts stay', () => {
    const r = runner();
    richCustomer(r);
    expect(holding(r, 'phone:+1').length).toBeGreaterThan(0);
    const popularityBefore = (r.state.get('rec/i/A') as { l: number; n: number });
    const agentLoadBefore = (r.state.get('svc/agent/ag1') as { load: number[] }).load;
    expect(agentLoadBefore.some((n) => n > 0)).toBe(true);

    const answer = ok(r, { id: 'e1', type: 'customer.erased', customer: 'device:d1' });
    expect(answer).toEqual({ ok: true, erased: { ids: 3, sessions: expect.any(Number), orders: 2, requests: 1, messages: 2, kiosks: 1, cases: 0 } });
    expect((answer.erased as { sessions: number }).sessions).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(answer)).not.toMatch(/acct1|phone|device/);

    // No stored record names any of its ids, its profile language or its messages.
    for (const id of customerIds) expect(holding(r, id), id).toEqual([]);
    expect(holding(r, 'my phone is')).toEqual([]);
    expect(holding(r, '"language":"de"')).toEqual([]);
    expect(holding(r, 'id/erase/')).toEqual([]);
    expect(holding(r, 'id/busy/')).toEqual([]);
    // The kiosk shows nobody, and is out of the indexes a stock change reads.
    expect(holding(r, 'cu/kiosk/')).toEqual([]);
    expect(holding(r, 'cu/shown')).toEqual([]);
    expect(r.messages.at(-1)).toEqual({ topic: 'kiosk/k1', data: { type: 'cleared', kiosk: 'k1' } });
    // Orders keep status and lines, without the customer.
    const o1 = r.state.get('stock/order/o1') as Record<string, unknown>;
    const o2 = r.state.get('stock/order/o2') as Record<string, unknown>;
    expect(o1).toMatchObject({ status: 'placed', lines: [{ sku: 'A', qty: 1, returned: 0 }] });
    expect(o2).toMatchObject({ status: 'completed', lines: [{ sku: 'B', qty: 2, returned: 0 }] });
    expect(o1.customer).toBeUndefined();
    expect(o2.customer).toBeUndefined();
    // Popularity stays; the index keeps its length with the sessions blanked.
    const after = r.state.get('rec/i/A') as { l: number; n: number; s: string[] };
    expect(after.l).toBe(popularityBefore.l);
    expect(after.n).toBe(popularityBefore.n);
    expect(after.s).toContain('other#1');
    // The agent's capacity was freed by the ended request.
    expect((r.state.get('svc/agent/ag1') as { load: number[]; assigned: string[] }).assigned).toEqual([]);
    // Readers: nobody.
    const customers = r.processor;
    for (const id of customerIds) {
      expect(customers.query!(r.view, 'recommendations', { subject: id, limit: 5 })).toEqual({ error: 'not_found' });
      expect(customers.render!(r.view, `recs/${id}`)).toBeUndefined();
    }
    // Someone else is untouched.
    expect(r.state.get('cu/sess/other')).toBeDefined();
  });

  it('a later event with a formerly linked id starts a new customer', () => {
    const r = runner();
    richCustomer(r);
    ok(r, { id: 'e1', type: 'customer.erased', customer: 'acct1' });
    ok(r, { id: 'v9', type: 'activity.viewed', subject: 'phone:+1', sku: 'B', channel: 'web', ts: T0 + 7_200_000 });
    expect(r.state.get('cu/sess/phone:+1')).toEqual({ id: 'phone:+1#1', n: 1, start: T0 + 7_200_000 });
    expect(r.state.get('rec/s/phone:+1#1')).toEqual({ i: ['B'], k: [0], t: [T0 + 7_200_000] });
    const linked = ok(r, { id: 'l9', type: 'identity.linked', ids: ['acct1', 'email:new@x.y'] });
    expect(linked).toMatchObject({ customer: 'acct1', created: true, merged: [] });
    expect(r.state.get('cu/orders/acct1')).toBeUndefined();
  });

  it('a second erasure of a linked id finds nobody (not_found), as does an unknown subject; a reserved name is invalid_event (a repeated id is the gateway test\'s)', () => {
    const r = runner();
    richCustomer(r);
    ok(r, { id: 'e1', type: 'customer.erased', customer: 'acct1' });
    expect(r.apply({ id: 'e2', type: 'customer.erased', customer: 'phone:+1' }).result).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(r.apply({ id: 'e3', type: 'customer.erased', customer: 'nobody' }).result).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(r.apply({ id: 'e4', type: 'customer.erased', customer: 'anonymous' }).result).toMatchObject({ ok: false, error: { code: 'invalid_event' } });
  });

  it('finds every order naming the customer, beyond the summaries kept and across a merge', () => {
    const r = runner();
    r.apply({ type: 'stock.received', sku: 'A', location: 'S1', qty: 100 });
    const place = (n: number, customer: string) => ok(r, { id: `o${n}`, type: 'order.placed', order: `o${n}`, customer, lines: [{ sku: 'A', qty: 1 }], pickup: 'S1', ts: T0 + n });
    for (let n = 0; n < 22; n++) place(n, 'phone:+9');
    ok(r, { id: 'l9', type: 'identity.linked', ids: ['acct9', 'phone:+9'] });
    for (let n = 22; n < 25; n++) place(n, 'acct9');
    expect((r.state.get('cu/orders/acct9') as unknown[]).length).toBe(20);
    expect(ok(r, { id: 'e9', type: 'customer.erased', customer: 'acct9' })).toMatchObject({ erased: { orders: 25 } });
    for (let n = 0; n < 25; n++) expect((r.state.get(`stock/order/o${n}`) as Record<string, unknown>).customer, `o${n}`).toBeUndefined();
    expect(holding(r, 'phone:+9')).toEqual([]);
    expect(holding(r, 'acct9')).toEqual([]);
  });

  it('erases a customer known by its activity alone', () => {
    const r = runner();
    ok(r, { id: 'v1', type: 'activity.viewed', subject: 'device:zz', sku: 'A', channel: 'web', ts: T0 });
    expect(ok(r, { id: 'e1', type: 'customer.erased', customer: 'device:zz' })).toMatchObject({ erased: { ids: 1, sessions: 1 } });
    expect(holding(r, 'device:zz')).toEqual([]);
  });

  // Derived events from one partition to another arrive in the order sent; those of different
  // partitions in any order. Two such orders: as queued, and every link move held back to the last.
  for (const movesLast of [false, true]) {
    it(`an erasure sent while a merge of that customer moves its state waits for it (${movesLast ? 'moves last' : 'in order'}), and ends with nothing left`, () => {
      const r = runner();
      ok(r, { id: 'v1', type: 'activity.viewed', subject: 'phone:+1', sku: 'A', channel: 'web', ts: T0 });
      ok(r, { id: 'v2', type: 'activity.viewed', subject: 'acct1', sku: 'B', channel: 'web', ts: T0 + 1000 });
      ok(r, { id: 'o1', type: 'order.placed', order: 'o1', customer: 'phone:+1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' });
      r.autoDrain = false;
      expect(r.apply({ id: 'l1', type: 'identity.linked', ids: ['acct1', 'phone:+1'] }).result).toMatchObject({ pending: true });
      // The erasure reaches the identity partition before the link's moves are applied, and more
      // activity of both ids is on its way.
      expect(r.apply({ id: 'e1', type: 'customer.erased', customer: 'phone:+1' }).result).toMatchObject({ pending: true });
      expect(r.answers.get('e1')).toBeUndefined();
      r.apply({ id: 'v3', type: 'activity.viewed', subject: 'phone:+1', sku: 'B', channel: 'web', ts: T0 + 2000 });
      if (movesLast) allBut(r, 'customer.moved');
      r.drain();
      // Answered once its moves arrived, when the erasure starts: what it would list is erased.
      expect(r.answers.get('l1')).toEqual({ ok: true, redacted: true });
      expect(r.answers.get('e1')).toMatchObject({ ok: true, erased: { ids: 2, orders: 1 } });
      for (const id of ['acct1', 'phone:+1']) expect(holding(r, id), id).toEqual([]);
      expect((r.state.get('stock/order/o1') as Record<string, unknown>).customer).toBeUndefined();
      expect(holding(r, 'id/busy/')).toEqual([]);
      expect(holding(r, 'id/erasewait/')).toEqual([]);
    });
  }
});

