// The order rights of every role (docs/protocol.md, section 2): who reads `order/<id>`,
// `store/<loc>` and `stats/commerce`, and who sends each order and store event. The rules are
// pure; the order facts and which ids name one customer are given as lookups.

import { describe, expect, it } from 'vitest';
import { ANONYMOUS, mayRead, maySend, parseTopic, type OrderFacts, type OrderParties, type Principal } from '../gateway/mod.ts';

const P: Record<string, Principal> = {
  anonymous: ANONYMOUS,
  customerOwn: { role: 'customer', sub: 'c1' },
  customerOther: { role: 'customer', sub: 'c2' },
  associateS1: { role: 'associate', sub: 'staff-1', loc: 'S1' },
  associateS2: { role: 'associate', sub: 'staff-2', loc: 'S2' },
  associateNoStore: { role: 'associate', sub: 'staff-3' },
  kiosk: { role: 'kiosk', sub: 'k1', loc: 'S1' },
  agent: { role: 'agent', sub: 'a1' },
  supervisor: { role: 'supervisor', sub: 'boss' },
  ingest: { role: 'ingest', sub: 'pos-feed' },
  admin: { role: 'admin', sub: 'root' },
};

const ORDERS: Record<string, OrderParties> = {
  // c1's, named by a linked id: a pickup waiting to be picked at S1.
  o1: { customer: 'phone:+1', pickup: 'S1', locations: ['S1'], status: 'placed' },
  // c2's, shipped from the warehouse and S2.
  o2: { customer: 'c2', locations: ['W1', 'S2'], status: 'shipped' },
  // c1's, shipped from the warehouse, partly returned at S1.
  o3: { customer: 'c1', locations: ['W1', 'S1'], status: 'partially_returned' },
  // c1's, ready for pickup at S2.
  o4: { customer: 'c1', pickup: 'S2', locations: ['S2'], status: 'ready' },
  // c2's, placed, to ship from the warehouse.
  o5: { customer: 'c2', locations: ['W1'], status: 'placed' },
  // Nobody's (a counter sale without a customer), picked up at S1.
  o6: { pickup: 'S1', locations: ['S1'], status: 'completed' },
};
const CUSTOMER_OF: Record<string, string> = { c1: 'c1', 'phone:+1': 'c1', c2: 'c2' };
const facts: OrderFacts = {
  lookupOrder: (id) => ORDERS[id],
  sameCustomer: (a, b) => CUSTOMER_OF[a] !== undefined && CUSTOMER_OF[a] === CUSTOMER_OF[b],
};

const TOPICS = [
  'stock/A',
  'stock/A@S1',
  'store/S1',
  'store/S2',
  'order/o1',
  'order/o2',
  'order/o3',
  'order/o4',
  'order/o5',
  'order/o6',
  'order/none',
  'stats/commerce',
  'kiosk/k1',
  'agent/a1',
  'queue/billing',
  'alerts/stock',
];
const NOT_TOPICS = ['stats/other', 'stats/', 'store/', 'order/', 'orders/o1', 'stores/S1'];

const READABLE: Record<string, string[]> = {
  anonymous: ['stock/A', 'stock/A@S1'],
  customerOwn: ['stock/A', 'stock/A@S1', 'order/o1', 'order/o3', 'order/o4'],
  customerOther: ['stock/A', 'stock/A@S1', 'order/o2', 'order/o5'],
  associateS1: ['stock/A', 'stock/A@S1', 'store/S1', 'order/o1', 'order/o3', 'order/o6'],
  associateS2: ['stock/A', 'stock/A@S1', 'store/S2', 'order/o2', 'order/o4'],
  associateNoStore: ['stock/A', 'stock/A@S1'],
  kiosk: ['stock/A', 'stock/A@S1', 'kiosk/k1'],
  agent: ['agent/a1', 'queue/billing'],
  supervisor: TOPICS,
  ingest: TOPICS,
  admin: TOPICS,
};

describe('who reads order, store and stats topics', () => {
  for (const [name, principal] of Object.entries(P)) {
    it(`${name} reads exactly its topics`, () => {
      const readable = [...TOPICS, ...NOT_TOPICS].filter((topic) => mayRead(principal, topic, { publicStock: true, ...facts }));
      expect(readable).toEqual(READABLE[name]);
    });
  }

  it('over the WebSocket ingest reads nothing; the others read as over HTTP', () => {
    for (const [name, principal] of Object.entries(P)) {
      const readable = TOPICS.filter((topic) => mayRead(principal, topic, { publicStock: true, ...facts, transport: 'ws' }));
      expect(readable, name).toEqual(name === 'ingest' ? [] : READABLE[name]);
    }
  });

  it('without order facts, order topics are for the read-everything roles only; a customer owns only orders naming its exact sub', () => {
    expect(mayRead(P.customerOwn, 'order/o3', { publicStock: true })).toBe(false);
    expect(mayRead(P.associateS1, 'order/o1', { publicStock: true })).toBe(false);
    expect(mayRead(P.supervisor, 'order/o1', { publicStock: true })).toBe(true);
    expect(mayRead(P.customerOwn, 'order/o3', { publicStock: true, lookupOrder: facts.lookupOrder })).toBe(true);
    expect(mayRead(P.customerOwn, 'order/o1', { publicStock: true, lookupOrder: facts.lookupOrder })).toBe(false);
  });

  it('parses the new families', () => {
    expect(parseTopic('order/o/1@x')).toEqual({ family: 'order', id: 'o/1@x' });
    expect(parseTopic('store/S1')).toEqual({ family: 'store', id: 'S1' });
    expect(parseTopic('stats/commerce')).toEqual({ family: 'stats', id: 'commerce' });
    expect(parseTopic('stats/stock')).toBeUndefined();
  });
});

const placed = { type: 'order.placed', order: 'o9', customer: 'c1', lines: [{ sku: 'A', qty: 1 }] };
const EVENTS: Record<string, unknown> = {
  placedInStoreForPickupElsewhere: { ...placed, id: 'e1', channel: 'store', pickup: 'S2' },
  placedInStoreToShip: { ...placed, id: 'e2', channel: 'store', ship: { lat: 1, lon: 2 } },
  placedOnTheWeb: { ...placed, id: 'e3', channel: 'web', pickup: 'S1' },
  placedWithoutChannel: { ...placed, id: 'e4', pickup: 'S1' },
  readyAtS1: { id: 'e5', type: 'order.ready', order: 'o1' },
  readyAtS2: { id: 'e6', type: 'order.ready', order: 'o4' },
  readyShipOrder: { id: 'e7', type: 'order.ready', order: 'o2' },
  readyUnknown: { id: 'e8', type: 'order.ready', order: 'none' },
  pickedUpAtS1: { id: 'e9', type: 'order.picked_up', order: 'o1' },
  pickedUpAtS2: { id: 'e10', type: 'order.picked_up', order: 'o4' },
  fulfilled: { id: 'e11', type: 'order.fulfilled', order: 'o1' },
  shipped: { id: 'e12', type: 'order.shipped', order: 'o5' },
  delivered: { id: 'e13', type: 'order.delivered', order: 'o2' },
  returnedAtS1: { id: 'e14', type: 'order.returned', return: 'r1', order: 'o2', lines: [{ sku: 'A', qty: 1 }], location: 'S1' },
  returnedAtS2: { id: 'e15', type: 'order.returned', return: 'r2', order: 'o3', lines: [{ sku: 'A', qty: 1 }], location: 'S2' },
  cancelOwnPlaced: { id: 'e16', type: 'order.cancelled', order: 'o1' },
  cancelOwnReady: { id: 'e17', type: 'order.cancelled', order: 'o4' },
  cancelOtherPlaced: { id: 'e18', type: 'order.cancelled', order: 'o5' },
  cancelUnknown: { id: 'e19', type: 'order.cancelled', order: 'none' },
  cancelNobodys: { id: 'e19b', type: 'order.cancelled', order: 'o6' },
  soldAtS1: { id: 'e20', type: 'stock.sold', sku: 'A', location: 'S1', qty: 1, channel: 'store' },
  soldAtS2: { id: 'e21', type: 'stock.sold', sku: 'A', location: 'S2', qty: 1 },
  stockReturnedAtS1: { id: 'e22', type: 'stock.returned', sku: 'A', location: 'S1', qty: 1 },
  stockReturnedAtS2: { id: 'e23', type: 'stock.returned', sku: 'A', location: 'S2', qty: 1 },
  receivedAtS1: { id: 'e24', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 },
  adjustedAtS1: { id: 'e25', type: 'stock.adjusted', sku: 'A', location: 'S1', onHand: 3 },
  reserveAtS1: { id: 'e26', type: 'stock.reserve', reservation: 'h1', sku: 'A', location: 'S1', qty: 1 },
  locationUpserted: { id: 'e27', type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 2, ships: false },
  storeNotice: { id: 'e28', type: 'store.notice', location: 'S1', notice: { type: 'expired', order: 'o1' } },
  commerceCounted: { id: 'e29', type: 'commerce.counted', order: 'o1', kind: 'placed', placedAt: 1, channel: 'web', location: 'S1', pickup: true, at: 1 },
  identifiedAtS1: { id: 'e30', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'c1' },
  viewedAtS1: { id: 'e31', type: 'activity.viewed', subject: 'c1', sku: 'A', channel: 'store', location: 'S1' },
  requestedByC1: { id: 'e32', type: 'service.requested', request: 'q1', subject: 'c1', channel: 'store', topic: 'returns' },
};

const SENDABLE: Record<string, string[]> = {
  anonymous: [],
  customerOwn: ['cancelOwnPlaced', 'requestedByC1'],
  customerOther: ['cancelOtherPlaced'],
  associateS1: ['placedInStoreForPickupElsewhere', 'placedInStoreToShip', 'readyAtS1', 'pickedUpAtS1', 'returnedAtS1', 'soldAtS1', 'stockReturnedAtS1'],
  associateS2: ['placedInStoreForPickupElsewhere', 'placedInStoreToShip', 'readyAtS2', 'pickedUpAtS2', 'returnedAtS2', 'soldAtS2', 'stockReturnedAtS2'],
  associateNoStore: [],
  kiosk: ['identifiedAtS1', 'viewedAtS1'],
  agent: [],
  supervisor: [],
  ingest: Object.keys(EVENTS),
  admin: Object.keys(EVENTS),
};

describe('who sends order and store events', () => {
  for (const [name, principal] of Object.entries(P)) {
    it(`${name} sends exactly its events, over HTTP and the WebSocket alike`, () => {
      for (const transport of ['http', 'ws'] as const) {
        const sendable = Object.keys(EVENTS).filter((key) => maySend(principal, EVENTS[key], { ...facts, transport }));
        expect(sendable, transport).toEqual(SENDABLE[name]);
      }
    });
  }

  it('a customer cancels its order only while it is placed: the same order once ready is refused', () => {
    const asReady: OrderFacts = { ...facts, lookupOrder: (id) => (id === 'o1' ? { ...ORDERS.o1, status: 'ready' } : ORDERS[id]) };
    expect(maySend(P.customerOwn, EVENTS.cancelOwnPlaced, facts)).toBe(true);
    expect(maySend(P.customerOwn, EVENTS.cancelOwnPlaced, asReady)).toBe(false);
  });

  it('the linked id the order names is the customer too, and a customer token named by that id', () => {
    const byPhone: Principal = { role: 'customer', sub: 'phone:+1' };
    expect(maySend(byPhone, EVENTS.cancelOwnPlaced, facts)).toBe(true);
    expect(mayRead(byPhone, 'order/o3', { publicStock: true, ...facts })).toBe(true);
    expect(mayRead(byPhone, 'order/o2', { publicStock: true, ...facts })).toBe(false);
  });

  it('without order facts, acting on an existing order is refused to customers and associates', () => {
    expect(maySend(P.customerOwn, EVENTS.cancelOwnPlaced)).toBe(false);
    expect(maySend(P.associateS1, EVENTS.readyAtS1)).toBe(false);
    expect(maySend(P.associateS1, EVENTS.returnedAtS1)).toBe(true);
  });

  it('an associate may not place an order in another channel, nor name a channel by a look-alike', () => {
    for (const channel of ['web', 'kiosk', 'Store', ' store', 1, null]) {
      expect(maySend(P.associateS1, { ...placed, id: 'x', channel, pickup: 'S1' }, facts)).toBe(false);
    }
  });
});
