// The events of `omni bench erasure`: one customer with a long history (sessions of activity,
// service requests with their messages, orders, loyalty points earned and spent) among many
// other customers and stocked SKUs, and the steady traffic (stock and other customers'
// activity) that runs while that customer is erased. Deterministic for a given prefix.

import type { InputEvent } from '../../engine/mod.ts';
import { StockWorkload, locationEvents, locationName, prng, seedEvents, skuName } from '../../loadgen/mod.ts';

export interface StoreShape {
  skus: number;
  stores: number;
  /** Other customers, each linked to a phone and with a few activities. */
  customers: number;
}

/** What the erased customer did, by kind; `events` of them in all. */
export interface HistoryShape {
  events: number;
  /** Activities per session (a new session starts after a gap longer than the engine's 30 min). */
  sessionLength: number;
  /** Messages per service request. */
  messagesPerRequest: number;
}

/** The erased customer's history, in the waves it must be sent in (each after the one before is answered). */
export interface History {
  customer: string;
  /** Every id the customer is known by (the account first). */
  ids: string[];
  waves: InputEvent[][];
  counts: { activities: number; sessions: number; orders: number; requests: number; messages: number; earned: number; redeemed: number };
  requests: string[];
  orders: string[];
  /** Values that name the customer, to look for after the erasure. */
  texts: string[];
}

const ACTIVITY_KINDS = ['activity.viewed', 'activity.viewed', 'activity.viewed', 'activity.carted', 'activity.purchased'] as const;
const MINUTE = 60_000;
/** Event time of the first activity: long enough ago that every session lies in the past. */
const HISTORY_SPAN_MS = 400 * 24 * 60 * MINUTE;

/**
 * A tenth of the history is service (requests with messages, each completed), a twentieth orders
 * (placed, then fulfilled), a tenth loyalty (two earnings to each redemption), the rest activity.
 */
export function customerHistory(shape: HistoryShape, store: Pick<StoreShape, 'skus' | 'stores'>, prefix: string, now = Date.now()): History {
  const rand = prng(7);
  const customer = `${prefix}-subject`;
  const phone = `phone:+49151${String(Math.floor(rand() * 1e8)).padStart(8, '0')}`;
  const email = `email:${prefix}.subject@example.com`;
  const device = `device:${prefix}-app-1`;
  const ids = [customer, phone, email, device];
  const sku = () => skuName(Math.floor(rand() * store.skus));
  // Every tenth location is a warehouse (loadgen's locationEvents): orders are picked up at stores.
  const pickup = () => {
    const i = Math.floor(rand() * store.stores);
    return locationName(i % 10 === 9 ? i - 1 : i);
  };
  let n = 0;
  const id = () => `${prefix}-h${n++}`;

  const first: InputEvent[] = [
    { id: id(), type: 'identity.linked', ids: [phone, email, device], customer },
    { id: id(), type: 'customer.profile', customer, tier: 'vip', language: 'de' },
  ];
  const budget = shape.events - first.length;
  const perRequest = shape.messagesPerRequest + 2;
  const requests = Math.max(1, Math.floor(budget / 10 / perRequest));
  const orders = Math.max(1, Math.floor(budget / 20 / 2));
  const redeemed = Math.max(1, Math.floor(budget / 10 / 3));
  const earned = 2 * redeemed;
  const activities = budget - requests * perRequest - orders * 2 - earned - redeemed;

  const starts: InputEvent[] = [];
  const follows: InputEvent[] = [];
  const ends: InputEvent[] = [];
  const texts = [phone, email, device, customer];
  // Sessions lie in the past, one every two hours, a minute between activities.
  const sessions = Math.ceil(activities / shape.sessionLength);
  let t = now - HISTORY_SPAN_MS;
  for (let i = 0; i < activities; i++) {
    if (i > 0 && i % shape.sessionLength === 0) t += 120 * MINUTE;
    // By the account: the engine orders events by the id they name, so activities by several ids
    // of one customer may be applied out of their time order, and cut sessions of their own.
    starts.push({ id: id(), type: ACTIVITY_KINDS[i % ACTIVITY_KINDS.length], subject: customer, sku: sku(), channel: i % 2 ? 'app' : 'web', ts: (t += MINUTE) });
  }
  const requestIds: string[] = [];
  for (let r = 0; r < requests; r++) {
    const request = `${prefix}-q${r}`;
    requestIds.push(request);
    starts.push({ id: id(), type: 'service.requested', request, subject: ids[r % ids.length], channel: 'chat', topic: 'returns', language: 'de' });
    for (let m = 0; m < shape.messagesPerRequest; m++) {
      const text = `${prefix} message ${r}.${m}: please call me back on ${phone.slice(6)}`;
      if (m === 0) texts.push(text);
      follows.push({ id: id(), type: 'service.message', request, from: 'customer', text });
    }
    ends.push({ id: id(), type: 'service.completed', request });
  }
  const orderIds: string[] = [];
  for (let o = 0; o < orders; o++) {
    const order = `${prefix}-o${o}`;
    orderIds.push(order);
    starts.push({ id: id(), type: 'order.placed', order, customer: ids[o % ids.length], pickup: pickup(), channel: 'web', lines: [{ sku: sku(), qty: 1 }] });
    follows.push({ id: id(), type: 'order.fulfilled', order });
  }
  for (let e = 0; e < earned; e++) starts.push({ id: id(), type: 'loyalty.earned', subject: ids[e % ids.length], points: 10, reason: 'purchase' });
  for (let r = 0; r < redeemed; r++) follows.push({ id: id(), type: 'loyalty.redeemed', subject: customer, points: 5, redemption: `${prefix}-red${r}` });

  const waves = [first, starts, follows, ends];
  return {
    customer,
    ids,
    waves,
    counts: { activities, sessions, orders, requests, messages: requests * shape.messagesPerRequest, earned, redeemed },
    requests: requestIds,
    orders: orderIds,
    texts,
  };
}

/**
 * The stores, every SKU's stock at each, the other customers' links, then their activities: each
 * wave once the one before is answered (an activity of a customer whose link is still moving
 * state waits for it, which would hold up the requests around it).
 */
export function storeWaves(shape: StoreShape, prefix: string): Array<Iterable<InputEvent>> {
  const rand = prng(11);
  const customers = Array.from({ length: shape.customers }, (_, c) => c);
  return [
    locationEvents(shape.stores, `${prefix}-l`),
    seedEvents(shape.skus, shape.stores, `${prefix}-s`),
    customers.map((c) => ({ id: `${prefix}-c${c}-link`, type: 'identity.linked', ids: [`phone:+4930${String(c).padStart(9, '0')}`], customer: otherCustomer(prefix, c) })),
    customers.flatMap((c) =>
      [0, 1, 2, 3].map((a) => ({ id: `${prefix}-c${c}-a${a}`, type: 'activity.viewed', subject: otherCustomer(prefix, c), sku: skuName(Math.floor(rand() * shape.skus)), channel: 'web' })),
    ),
  ];
}

/** Events in storeWaves. */
export const storeEventCount = (shape: StoreShape) => shape.stores + shape.skus * shape.stores + shape.customers * 5;

const otherCustomer = (prefix: string, c: number) => `${prefix}-c${c}`;

/**
 * The traffic that runs throughout: the loadgen's stock mix over the same SKUs and stores, and
 * every `customerEvery`-th event an activity of one of the other customers.
 */
export class BackgroundTraffic {
  private readonly stock: StockWorkload;
  private readonly rand = prng(13);
  private n = 0;

  constructor(
    private readonly shape: StoreShape,
    private readonly prefix: string,
    private readonly customerEvery = 2,
  ) {
    this.stock = new StockWorkload({ skus: shape.skus, locations: shape.stores, dist: 'zipf', idPrefix: `${prefix}-bg`, releaseLag: 1000 });
  }

  next(): InputEvent {
    if (this.shape.customers > 0 && this.n++ % this.customerEvery === 0) {
      const c = Math.floor(this.rand() * this.shape.customers);
      return { id: `${this.prefix}-bga${this.n}`, type: 'activity.viewed', subject: otherCustomer(this.prefix, c), sku: skuName(Math.floor(this.rand() * this.shape.skus)), channel: 'app' };
    }
    return this.stock.next();
  }
}
