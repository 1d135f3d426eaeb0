// The customer processor on a pure view with the stock and service processors beside it:
// event-time sessions, recommendations on `recs/<customer>`, the stock filter, kiosk screens
// and their refresh when a shown SKU sells out, merges while a session is open, orders and
// activity in the service desk's 360 context.

import { beforeEach, describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { PureRunner } from './pure-harness.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;
let r: PureRunner;
/** The state topics every step changed since the last `ok` began: a merge's reach other partitions one step later. */
let changed: string[] = [];

const code = (e: { result: any }) => (e.result.ok ? 'ok' : e.result.error.code);
function ok(event: Record<string, unknown>) {
  changed = [];
  const e = r.apply(event as never);
  if (!e.result.ok) throw new Error(`${String(event.type)} refused: ${JSON.stringify((e.result as any).error)}`);
  return { ...e, changed: [...changed] };
}
function rejects(event: Record<string, unknown>, expected: string) {
  const before = r.dump();
  const e = r.apply(event as never);
  expect(code(e)).toBe(expected);
  expect(r.dump()).toBe(before);
}
const view = (subject: string, sku: string, ts: number, extra = {}) => ok({ type: 'activity.viewed', subject, sku, channel: 'web', ts, ...extra });
const skus = (topic: string) => ((r.render(topic)?.items ?? []) as Array<{ sku: string }>).map((i) => i.sku);

/** Shoppers who looked at A then B (twice as often) or A then C: after A, B ranks above C. */
function history() {
  let t = T0 - 24 * 60 * MIN;
  for (const [n, path] of [
    [1, ['A', 'B']],
    [2, ['A', 'B']],
    [3, ['A', 'C']],
    [4, ['D', 'E']],
  ] as const) {
    for (const sku of path) view(`device:h${n}`, sku, (t += MIN));
  }
}

beforeEach(() => {
  r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()], { onStep: (step) => changed.push(...(step.effects.changed ?? [])) });
  ok({ type: 'location.upserted', location: 'S1', kind: 'store', lat: 52.5, lon: 13.4 });
  ok({ type: 'location.upserted', location: 'S2', kind: 'store', lat: 48.1, lon: 11.6 });
  r.messages.length = 0;
});

describe('event-time sessions', () => {
  it('a gap of more than 30 minutes of event time starts a new session; a late event joins the current one', () => {
    expect(view('c1', 'A', T0).result).toMatchObject({ customer: 'c1', session: 'c1#1' });
    expect(view('c1', 'B', T0 + 30 * MIN).result).toMatchObject({ session: 'c1#1' });
    expect(view('c1', 'C', T0 + 61 * MIN).result).toMatchObject({ session: 'c1#2' });
    // An older event after the cut stays in the newest session: sessions are never reopened.
    expect(view('c1', 'D', T0 + 5 * MIN).result).toMatchObject({ session: 'c1#2' });
  });

  it('the arrival clock is not the session clock: events far apart on the clock with close ts share a session', () => {
    view('c2', 'A', T0);
    r.now += 5 * 3600_000;
    expect(view('c2', 'B', T0 + MIN).result).toMatchObject({ session: 'c2#1' });
  });
});

describe('recommendations', () => {
  it('recs/<customer> changes with each activity and ranks what similar sessions did next', () => {
    history();
    const e = view('shopper', 'A', T0);
    expect(e.changed).toEqual(['recs/shopper']);
    const list = skus('recs/shopper');
    expect(list).toContain('B');
    expect(list.indexOf('B')).toBeLessThan(list.indexOf('C'));
    expect(r.render('recs/shopper').customer).toBe('shopper');
  });

  it('leaves out SKUs with nothing available anywhere, keeps SKUs the stock side never saw', () => {
    history();
    ok({ type: 'stock.received', sku: 'B', location: 'S1', qty: 1 });
    ok({ type: 'stock.sold', sku: 'B', location: 'S1', qty: 1 });
    view('shopper', 'A', T0);
    const list = skus('recs/shopper');
    expect(list).not.toContain('B');
    expect(list).toContain('C');
  });

  it('a customer id linked to a shopper first seen by its device gets its own recs topic updated', () => {
    history();
    view('device:d9', 'A', T0);
    // Activity alone records no identity: the link makes c42 a customer and the device one of its ids.
    const linked = ok({ type: 'identity.linked', ids: ['device:d9'], customer: 'c42' });
    expect(linked.result).toMatchObject({ customer: 'c42', attached: ['c42', 'device:d9'] });
    expect(linked.changed).toEqual(expect.arrayContaining(['recs/c42', 'recs/device:d9']));
    // The device's session came along: after A, B ranks for c42.
    expect(skus('recs/c42')).toContain('B');
    const e = view('device:d9', 'D', T0 + MIN);
    expect(e.result).toMatchObject({ customer: 'c42', session: 'c42#1' });
    // The customer's topic and the one of the id the activity came from.
    expect(e.changed).toEqual(['recs/c42', 'recs/device:d9']);
    expect(skus('recs/c42')).toContain('E');
    expect(r.render('recs/device:d9')).toEqual(r.render('recs/c42'));
  });

  it('a never-seen subject has no recommendations topic state', () => {
    expect(r.render('recs/nobody')).toBeUndefined();
  });

  it('refuses activity from a blocked identifier and changes nothing', () => {
    rejects({ type: 'activity.viewed', subject: 'anonymous', sku: 'A', channel: 'web', ts: T0 }, 'invalid_event');
    rejects({ type: 'activity.viewed', subject: 'device:null', sku: 'A', channel: 'web', ts: T0 }, 'invalid_event');
  });

  it('refuses a link or a profile of blocked values only, changing nothing', () => {
    rejects({ type: 'identity.linked', ids: ['null', 'phone:-1', 'email: Anonymous '] }, 'invalid_event');
    rejects({ type: 'customer.profile', customer: '0', tier: 'vip' }, 'invalid_event');
    // A blocked value beside a real id is left out and named in the answer.
    expect(ok({ type: 'identity.linked', ids: ['device:null', 'phone:+7'] }).result).toMatchObject({ customer: 'phone:+7', blocked: ['device:null'] });
  });

  it('refuses malformed activity', () => {
    rejects({ type: 'activity.viewed', subject: 'c', sku: 'A@B', channel: 'web' }, 'invalid_event');
    rejects({ type: 'activity.carted', subject: 'c', sku: 'A', channel: '' }, 'invalid_event');
    rejects({ type: 'activity.purchased', subject: '', sku: 'A', channel: 'web' }, 'invalid_event');
    rejects({ type: 'activity.viewed', subject: 'c', sku: 'A', channel: 'web', location: 7 }, 'invalid_event');
  });
});

describe('kiosks', () => {
  beforeEach(() => {
    history();
    for (const sku of ['B', 'C']) {
      ok({ type: 'stock.received', sku, location: 'S1', qty: 2 });
      ok({ type: 'stock.received', sku, location: 'S2', qty: 2 });
    }
    view('phone:+49', 'A', T0);
    r.messages.length = 0;
  });

  it('kiosk.identified pushes the list filtered by that store, and a sell-out there updates it', () => {
    ok({ type: 'stock.sold', sku: 'C', location: 'S1', qty: 2 });
    r.messages.length = 0;
    const e = ok({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'phone:+49' });
    expect(e.messages).toHaveLength(1);
    const shown = e.messages![0];
    expect(shown.topic).toBe('kiosk/k1');
    expect(shown.data).toMatchObject({ type: 'recommendations', kiosk: 'k1', customer: 'phone:+49', location: 'S1' });
    const first = (shown.data as any).items.map((i: any) => i.sku);
    expect(first).toContain('B');
    expect(first).not.toContain('C');

    // Selling one of two B changes nothing on screen; the last one does.
    r.messages.length = 0;
    ok({ type: 'stock.sold', sku: 'B', location: 'S1', qty: 1 });
    expect(r.messages.filter((m) => m.topic === 'kiosk/k1')).toHaveLength(0);
    ok({ type: 'stock.sold', sku: 'B', location: 'S1', qty: 1 });
    const updates = r.messages.filter((m) => m.topic === 'kiosk/k1');
    expect(updates).toHaveLength(1);
    expect((updates[0].data as any).items.map((i: any) => i.sku)).not.toContain('B');
    // B is still on the shelves of S2: a kiosk there shows it.
    const other = ok({ type: 'kiosk.identified', kiosk: 'k2', location: 'S2', subject: 'phone:+49' });
    expect((other.messages![0].data as any).items.map((i: any) => i.sku)).toContain('B');
  });

  it('a reservation that takes the last unit also refreshes the screen; another store does not', () => {
    ok({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'phone:+49' });
    r.messages.length = 0;
    ok({ type: 'stock.sold', sku: 'B', location: 'S2', qty: 2 });
    expect(r.messages.filter((m) => m.topic === 'kiosk/k1')).toHaveLength(0);
    ok({ type: 'stock.reserve', reservation: 'r1', sku: 'B', location: 'S1', qty: 2 });
    expect(r.messages.filter((m) => m.topic === 'kiosk/k1')).toHaveLength(1);
  });

  it('a SKU the stock side had never seen, first received at a warehouse, leaves the screens of stores without it', () => {
    ok({ type: 'location.upserted', location: 'W1', kind: 'warehouse', lat: 50, lon: 8 });
    view('device:h9', 'A', T0 - 3600_000);
    view('device:h9', 'NEW', T0 - 3600_000 + MIN);
    const shown = ok({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'phone:+49' });
    expect((shown.messages![0].data as any).items.map((i: any) => i.sku)).toContain('NEW');
    r.messages.length = 0;
    ok({ type: 'stock.received', sku: 'NEW', location: 'W1', qty: 5 });
    const updates = r.messages.filter((m) => m.topic === 'kiosk/k1');
    expect(updates).toHaveLength(1);
    expect((updates[0].data as any).items.map((i: any) => i.sku)).not.toContain('NEW');
  });

  it('refuses an undeclared store or a blocked subject, changing nothing', () => {
    rejects({ type: 'kiosk.identified', kiosk: 'k1', location: 'NOPE', subject: 'phone:+49' }, 'unknown_location');
    rejects({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'null' }, 'invalid_event');
    ok({ type: 'location.upserted', location: 'W9', kind: 'warehouse', lat: 50, lon: 8 });
    rejects({ type: 'kiosk.identified', kiosk: 'k1', location: 'W9', subject: 'phone:+49' }, 'invalid_event');
  });

  it('a kiosk identifying someone new shows popular items and starts a profile', () => {
    const e = ok({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'email:new@x.y' });
    expect((e.messages![0].data as any).items.length).toBeGreaterThan(0);
    expect(e.result).toMatchObject({ customer: 'email:new@x.y' });
  });
});

describe('merges and the 360 context', () => {
  it('a merge while a session is open joins both sessions under the surviving customer', () => {
    history();
    view('device:tab', 'A', T0);
    ok({ type: 'identity.linked', ids: ['email:a@b.c'], customer: 'c9', ts: T0 + MIN });
    view('c9', 'D', T0 + 2 * MIN);
    ok({ type: 'identity.linked', ids: ['phone:+7'], customer: 'c8', ts: T0 + MIN });
    view('phone:+7', 'C', T0 + 2 * MIN);
    const popularityOfA = (r.state.get('rec/i/A') as { l: number }).l;
    const popularityOfD = (r.state.get('rec/i/D') as { l: number }).l;
    // The device's activity moves to c9 (an id identity had not recorded joins the link's customer).
    const attach = ok({ type: 'identity.linked', ids: ['device:tab', 'email:a@b.c'], ts: T0 + 3 * MIN });
    expect(attach.result).toMatchObject({ customer: 'c9', attached: ['device:tab'], merged: [] });
    expect(attach.changed).toEqual(expect.arrayContaining(['recs/c9', 'recs/device:tab']));
    // Moving the activity into the survivor's session counts none of it twice.
    expect((r.state.get('rec/i/A') as { l: number }).l).toBe(popularityOfA);
    expect(skus('recs/c9')).toEqual(expect.arrayContaining(['B', 'E']));
    expect(r.render('recs/device:tab').customer).toBe('c9');

    // Two known customers: c9 was created first and survives; c8's open session joins its own.
    const e = ok({ type: 'identity.linked', ids: ['phone:+7', 'email:a@b.c'], ts: T0 + 4 * MIN });
    expect((r.state.get('rec/i/D') as { l: number }).l).toBe(popularityOfD);
    const merged = (e.result as any).merged as Array<{ from: string; into: string }>;
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ from: 'c8', into: 'c9' });
    expect(e.changed).toEqual(expect.arrayContaining(['recs/c8', 'recs/c9']));
    expect((r.state.get('rec/s/c9#1') as { i: string[] }).i).toEqual(['A', 'D', 'C']);
    // The merged-away name renders the survivor's list.
    expect(r.render('recs/c8').customer).toBe('c9');
    expect(view('c8', 'B', T0 + 5 * MIN).result).toMatchObject({ customer: 'c9', session: 'c9#1' });
  });

  it('merged open sessions interleave by event time and keep the latest activities', () => {
    view('device:a', 'X', T0 + 10 * MIN);
    view('device:b', 'Y', T0);
    ok({ type: 'identity.linked', ids: ['device:a', 'email:ab@x'] });
    ok({ type: 'identity.linked', ids: ['device:b', 'phone:+9'] });
    ok({ type: 'identity.linked', ids: ['email:ab@x', 'phone:+9'], ts: T0 + 11 * MIN });
    // Each device's activity joined the customer its link made (email:ab@x, phone:+9); email:ab@x was created first.
    const log = r.state.get('rec/s/email:ab@x#1') as { i: string[]; t: number[] };
    expect(log.i).toEqual(['Y', 'X']);

    // 50 older views of one and 50 newer of the other: the survivor keeps the newest 50.
    for (let i = 0; i < 50; i++) view('device:old', `O${i}`, T0 + i * 1000);
    for (let i = 0; i < 50; i++) view('device:new', `N${i}`, T0 + 25 * MIN + i * 1000);
    ok({ type: 'identity.linked', ids: ['device:old', 'wechat:on'] });
    ok({ type: 'identity.linked', ids: ['device:new', 'phone:+8'] });
    ok({ type: 'identity.linked', ids: ['wechat:on', 'phone:+8'] });
    const merged = r.state.get('rec/s/wechat:on#1') as { i: string[] };
    expect(merged.i).toEqual(Array.from({ length: 50 }, (_, i) => `N${i}`));
    // Ten minutes after the newest view: still the same session.
    expect(view('device:old', 'Z', T0 + 36 * MIN).result).toMatchObject({ customer: 'wechat:on', session: 'wechat:on#1' });
  });

  it('an offer carries linked ids, the latest activity, orders and the profile tier', () => {
    ok({ type: 'identity.linked', ids: ['phone:+86', 'wechat:o6'], customer: 'c1' });
    ok({ type: 'customer.profile', customer: 'c1', tier: 'vip', language: 'zh' });
    view('wechat:o6', 'A', T0);
    view('phone:+86', 'B', T0 + MIN);
    ok({ type: 'stock.received', sku: 'B', location: 'S1', qty: 5 });
    ok({ type: 'order.placed', order: 'o1', customer: 'phone:+86', lines: [{ sku: 'B', qty: 1 }], pickup: 'S1' });
    ok({ type: 'order.fulfilled', order: 'o1' });
    ok({ type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 1 }, languages: ['zh'] });
    r.messages.length = 0;
    const e = ok({ type: 'service.requested', request: 'q1', subject: 'wechat:o6', channel: 'chat', topic: 'billing' });
    expect(e.result).toMatchObject({ status: 'offered' });
    const offer = r.messages.find((m) => m.topic === 'agent/a1')!.data as any;
    expect(offer.customer).toMatchObject({ id: 'c1', tier: 'vip', language: 'zh' });
    expect(offer.customer.ids).toEqual(expect.arrayContaining(['phone:+86', 'wechat:o6']));
    expect(offer.customer.activity.map((a: any) => a.sku)).toEqual(['B', 'A']);
    expect(offer.customer.orders).toEqual([expect.objectContaining({ order: 'o1', status: 'completed', lines: [{ sku: 'B', qty: 1 }], pickup: 'S1' })]);
  });

  it('requests raised by a blocked subject belong to nobody: they never join each other', () => {
    ok({ type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 3 } });
    ok({ type: 'service.requested', request: 'w1', subject: 'anonymous', channel: 'chat', topic: 'billing' });
    const second = ok({ type: 'service.requested', request: 'w2', subject: 'anonymous', channel: 'chat', topic: 'billing' });
    expect(second.result).not.toHaveProperty('conversation');
    expect(r.render('request/w2')).toMatchObject({ customer: 'request:w2', subject: 'anonymous' });
  });

  it('merging customers merges their open requests: continuity across linked ids', () => {
    ok({ type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 2 } });
    ok({ type: 'service.requested', request: 'q1', subject: 'phone:+1', channel: 'chat', topic: 'billing' });
    ok({ type: 'service.accepted', request: 'q1', agent: 'a1' });
    ok({ type: 'identity.linked', ids: ['email:z@z.z'], customer: 'c2' });
    view('phone:+1', 'A', T0);
    ok({ type: 'identity.linked', ids: ['phone:+1', 'email:z@z.z'] });
    const e = ok({ type: 'service.requested', request: 'q2', subject: 'email:z@z.z', channel: 'chat', topic: 'billing' });
    expect(e.result).toMatchObject({ conversation: 'q1' });
  });
});
