// A kiosk identifying a shopper tells the store's associates who is there, on `store/<location>`:
// the customer's ids masked, its tier, its orders waiting for pickup at that store (not those
// for other stores, nor closed or expired ones, nor ship orders) and what the kiosk shows it.
// Pure: the customer, stock and service processors on a pure runner; the stock processor
// publishes the notice (store.notice) on the store's topic.

import { beforeEach, describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { PureRunner } from './pure-harness.ts';

const T0 = 1_700_000_000_000;
const PHONE = 'phone:+4915112345600';
const EMAIL = 'email:anna@bhf.co';
let r: PureRunner;

function ok(event: Record<string, unknown>) {
  const e = r.apply(event as never);
  if (!e.result.ok) throw new Error(`${String(event.type)} refused: ${JSON.stringify((e.result as any).error)}`);
  return e;
}
const notices = (location: string) => r.messages.filter((m) => m.topic === `store/${location}`).map((m) => m.data as any);
const shopperNotices = (location: string) => notices(location).filter((n) => n.type === 'shopper');
const pickup = (order: string, store: string, sku: string, customer: string = 'c1') =>
  ok({ type: 'order.placed', order, customer, pickup: store, lines: [{ sku, qty: 1 }], ts: T0 });

beforeEach(() => {
  r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()]);
  for (const [location, kind] of [['S1', 'store'], ['S2', 'store'], ['W1', 'warehouse']]) ok({ type: 'location.upserted', location, kind, lat: 52, lon: 13 });
  for (const sku of ['A', 'B', 'C']) for (const location of ['S1', 'S2', 'W1']) ok({ type: 'stock.received', sku, location, qty: 10 });
  ok({ type: 'identity.linked', customer: 'c1', ids: [PHONE, EMAIL, 'device:abc'] });
  ok({ type: 'customer.profile', customer: 'c1', tier: 'vip' });
  // Someone else's history, so the kiosk has items to show.
  ok({ type: 'activity.viewed', subject: 'device:x', sku: 'A', channel: 'web', ts: T0 - 60_000 });
  ok({ type: 'activity.viewed', subject: 'device:x', sku: 'B', channel: 'web', ts: T0 - 30_000 });
  r.messages.length = 0;
});

describe('the shopper notice on store/<location>', () => {
  it('names the shopper with its contact ids masked, its tier, what the kiosk shows and the orders waiting at that store only', () => {
    pickup('o1', 'S1', 'A');
    pickup('o2', 'S2', 'B');
    pickup('o3', 'S1', 'B');
    ok({ type: 'order.cancelled', order: 'o3' });
    pickup('o4', 'S1', 'C');
    ok({ type: 'order.fulfilled', order: 'o4' });
    ok({ type: 'order.placed', order: 'o5', customer: 'c1', ship: { lat: 52, lon: 13 }, lines: [{ sku: 'C', qty: 1 }], ts: T0 });
    pickup('o6', 'S1', 'C', 'someone-else');
    // Readied, uncollected past its hold (3 days by default): expired, not waiting any more.
    pickup('o8', 'S1', 'A');
    ok({ type: 'order.ready', order: 'o8' });
    r.now += 3 * 24 * 3600_000 + 1;
    r.fireDue();
    expect(r.render('order/o8')).toMatchObject({ status: 'expired' });
    pickup('o7', 'S1', 'B');
    ok({ type: 'order.ready', order: 'o7' });
    r.messages.length = 0;

    const e = ok({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: PHONE, ts: T0 });
    // Nothing changes for the kiosk itself.
    expect(e.result).toMatchObject({ ok: true, customer: 'c1' });
    const shown = r.messages.find((m) => m.topic === 'kiosk/k1')!.data as any;
    expect(shown.items.length).toBeGreaterThan(0);

    expect(shopperNotices('S1')).toEqual([
      {
        type: 'shopper',
        kiosk: 'k1',
        customer: {
          customer: 'c1',
          ids: ['c1', 'phone:+49151******00', 'email:a***@b.c', 'device:abc'],
          tier: 'vip',
          pickups: [
            { order: 'o7', status: 'ready', lines: [{ sku: 'B', qty: 1 }] },
            { order: 'o1', status: 'placed', lines: [{ sku: 'A', qty: 1 }] },
          ],
          recommendations: shown.items,
        },
      },
    ]);
    expect(notices('S2')).toEqual([]);
    const published = JSON.stringify(r.messages.filter((m) => m.topic.startsWith('store/')));
    for (const secret of ['4915112345600', '12345600', 'anna', 'bhf']) expect(published).not.toContain(secret);
  });

  it('masks a shopper whose only name is its phone number, and shows a newcomer with no orders', () => {
    ok({ type: 'activity.viewed', subject: 'phone:+4917012345678', sku: 'A', channel: 'app', ts: T0 });
    ok({ type: 'kiosk.identified', kiosk: 'k2', location: 'S2', subject: 'phone:+4917012345678', ts: T0 });
    ok({ type: 'kiosk.identified', kiosk: 'k2', location: 'S2', subject: 'email:new@shop.example', ts: T0 });
    const [known, newcomer] = shopperNotices('S2').map((n) => n.customer);
    expect(known).toMatchObject({ customer: 'phone:+49170******78', ids: ['phone:+49170******78'], tier: 'standard', pickups: [] });
    expect(newcomer).toMatchObject({ customer: 'email:n***@s.e', ids: ['email:n***@s.e'], tier: 'standard', pickups: [] });
    expect(JSON.stringify(r.messages.filter((m) => m.topic === 'store/S2'))).not.toContain('12345678');
  });

  it('follows a merge: orders placed under an id linked later wait for the customer it joined', () => {
    ok({ type: 'order.placed', order: 'o9', customer: 'device:kiosk-guest', pickup: 'S1', lines: [{ sku: 'A', qty: 2 }], ts: T0 });
    ok({ type: 'identity.linked', ids: [PHONE, 'device:kiosk-guest'] });
    ok({ type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'device:kiosk-guest', ts: T0 });
    const [notice] = shopperNotices('S1');
    expect(notice.customer.customer).toBe('c1');
    expect(notice.customer.pickups).toEqual([{ order: 'o9', status: 'placed', lines: [{ sku: 'A', qty: 2 }] }]);
  });

  it('a refused identification tells the store nothing', () => {
    expect(r.apply({ type: 'kiosk.identified', kiosk: 'k1', location: 'W1', subject: PHONE } as never).result.ok).toBe(false);
    expect(r.apply({ type: 'kiosk.identified', kiosk: 'k1', location: 'NOPE', subject: PHONE } as never).result.ok).toBe(false);
    expect(r.messages.filter((m) => m.topic.startsWith('store/'))).toEqual([]);
  });
});
