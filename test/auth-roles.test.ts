import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS, mayRead, maySend, parseTopic, type Principal, type RequestParties } from '../gateway/mod.ts';

const P: Record<string, Principal> = {
  anonymous: ANONYMOUS,
  customer: { role: 'customer', sub: 'c1' },
  kiosk: { role: 'kiosk', sub: 'k1', loc: 'S1' },
  agent: { role: 'agent', sub: 'a1' },
  supervisor: { role: 'supervisor', sub: 'boss' },
  ingest: { role: 'ingest', sub: 'pos-feed' },
  admin: { role: 'admin', sub: 'root' },
};

const REQUESTS: Record<string, RequestParties> = {
  r1: { customer: 'c1', subject: 'phone:+100', agent: 'a1' },
  r2: { customer: 'c2', agent: 'a2' },
  r4: { subject: 'c1' },
};
const lookupRequest = (id: string) => REQUESTS[id];

const VALID_TOPICS = [
  'stock/SKU1',
  'stock/SKU1@S1',
  'recs/c1',
  'recs/c2',
  'kiosk/k1',
  'kiosk/k2',
  'agent/a1',
  'agent/a2',
  'request/r1',
  'request/r2',
  'request/r3',
  'request/r4',
  'queue/billing',
  'alerts/stock',
  'alerts/service',
];
const INVALID_TOPICS = ['alerts/other', 'bogus/x', 'stock/', 'stock', '', '/x', 'orders/o1'];

const READABLE: Record<string, string[]> = {
  anonymous: ['stock/SKU1', 'stock/SKU1@S1'],
  customer: ['stock/SKU1', 'stock/SKU1@S1', 'recs/c1', 'request/r1', 'request/r4'],
  kiosk: ['stock/SKU1', 'stock/SKU1@S1', 'kiosk/k1'],
  agent: ['agent/a1', 'request/r1', 'queue/billing'],
  supervisor: VALID_TOPICS,
  ingest: VALID_TOPICS,
  admin: VALID_TOPICS,
};

describe('mayRead', () => {
  for (const [name, principal] of Object.entries(P)) {
    it(`${name} reads exactly its topics (public stock on)`, () => {
      const readable = [...VALID_TOPICS, ...INVALID_TOPICS].filter((topic) => mayRead(principal, topic, { publicStock: true, lookupRequest }));
      expect(readable).toEqual(READABLE[name]);
    });
  }

  it('without public stock, anonymous reads nothing and the others are unchanged', () => {
    for (const [name, principal] of Object.entries(P)) {
      const readable = VALID_TOPICS.filter((topic) => mayRead(principal, topic, { publicStock: false, lookupRequest }));
      expect(readable, name).toEqual(name === 'anonymous' ? [] : READABLE[name]);
    }
  });

  it('without a request lookup, request topics are for the read-everything roles only', () => {
    expect(mayRead(P.customer, 'request/r1', { publicStock: true })).toBe(false);
    expect(mayRead(P.agent, 'request/r1', { publicStock: true })).toBe(false);
    expect(mayRead(P.supervisor, 'request/r1', { publicStock: true })).toBe(true);
  });

  it('ingest reads over HTTP only', () => {
    expect(mayRead(P.ingest, 'stock/SKU1', { publicStock: true, transport: 'ws' })).toBe(false);
    expect(mayRead(P.admin, 'stock/SKU1', { publicStock: true, transport: 'ws' })).toBe(true);
    expect(mayRead(P.supervisor, 'alerts/stock', { publicStock: true, transport: 'ws' })).toBe(true);
  });

  it('parses topic names', () => {
    expect(parseTopic('stock/A@S1')).toEqual({ family: 'stock', id: 'A@S1' });
    expect(parseTopic('request/r/with/slashes')).toEqual({ family: 'request', id: 'r/with/slashes' });
    expect(parseTopic('alerts/other')).toBeUndefined();
  });

  it('never grants an unknown topic family, whatever the principal', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(P)), fc.string(), fc.boolean(), (principal, topic, publicStock) => {
        const granted = mayRead(principal, topic, { publicStock, lookupRequest });
        if (parseTopic(topic) === undefined) expect(granted).toBe(false);
      }),
    );
  });
});

const EVENTS: Record<string, unknown> = {
  requestSelf: { id: 'e1', type: 'service.requested', request: 'r9', subject: 'c1', channel: 'chat', topic: 'billing' },
  requestOther: { id: 'e2', type: 'service.requested', request: 'r9', subject: 'c2', channel: 'chat', topic: 'billing' },
  customerMessageOwn: { id: 'e3', type: 'service.message', request: 'r1', from: 'customer', text: 'hi' },
  customerMessageBySubject: { id: 'e3b', type: 'service.message', request: 'r4', from: 'customer', text: 'hi' },
  customerMessageOther: { id: 'e4', type: 'service.message', request: 'r2', from: 'customer', text: 'hi' },
  customerMessageUnknown: { id: 'e4b', type: 'service.message', request: 'r3', from: 'customer', text: 'hi' },
  identifiedHere: { id: 'e5', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: 'c1' },
  identifiedElsewhere: { id: 'e6', type: 'kiosk.identified', kiosk: 'k1', location: 'S2', subject: 'c1' },
  identifiedForOtherKiosk: { id: 'e7', type: 'kiosk.identified', kiosk: 'k2', location: 'S1', subject: 'c1' },
  viewedHere: { id: 'e8', type: 'activity.viewed', subject: 'c1', sku: 'A', channel: 'store', location: 'S1' },
  cartedElsewhere: { id: 'e9', type: 'activity.carted', subject: 'c1', sku: 'A', channel: 'store', location: 'S2' },
  purchasedNowhere: { id: 'e10', type: 'activity.purchased', subject: 'c1', sku: 'A', channel: 'web' },
  statusSelf: { id: 'e11', type: 'agent.status', agent: 'a1', status: 'away' },
  statusOther: { id: 'e12', type: 'agent.status', agent: 'a2', status: 'away' },
  acceptSelf: { id: 'e13', type: 'service.accepted', request: 'r1', agent: 'a1' },
  declineSelf: { id: 'e13b', type: 'service.declined', request: 'r2', agent: 'a1' },
  declineOther: { id: 'e14', type: 'service.declined', request: 'r2', agent: 'a2' },
  completeOwn: { id: 'e15', type: 'service.completed', request: 'r1' },
  completeOther: { id: 'e16', type: 'service.completed', request: 'r2' },
  agentMessageOwn: { id: 'e17', type: 'service.message', request: 'r1', from: 'agent', text: 'hello' },
  agentMessageOther: { id: 'e18', type: 'service.message', request: 'r2', from: 'agent', text: 'hello' },
  agentOnline: { id: 'e19', type: 'agent.online', agent: 'a1', skills: { billing: 5 }, capacity: { chat: 2 } },
  agentOnlineOther: { id: 'e19b', type: 'agent.online', agent: 'a2', skills: { billing: 5 }, capacity: { chat: 2 } },
  agentOffline: { id: 'e19c', type: 'agent.offline', agent: 'a1' },
  agentOfflineOther: { id: 'e19d', type: 'agent.offline', agent: 'a2' },
  // Presence is the gateway's: a desk may not fake its own connection or disconnection.
  agentConnected: { id: 'e19e', type: 'agent.connected', agent: 'a1' },
  agentDisconnected: { id: 'e19f', type: 'agent.disconnected', agent: 'a1' },
  stockReceived: { id: 'e20', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 },
  notAnObject: 42,
  noType: { id: 'e21' },
  arrayEvent: [{ id: 'e22', type: 'stock.received' }],
};

const SENDABLE: Record<string, string[]> = {
  anonymous: [],
  customer: ['requestSelf', 'customerMessageOwn', 'customerMessageBySubject'],
  kiosk: ['identifiedHere', 'viewedHere'],
  agent: ['statusSelf', 'acceptSelf', 'declineSelf', 'completeOwn', 'agentMessageOwn', 'agentOnline', 'agentOffline'],
  supervisor: [],
  ingest: Object.keys(EVENTS),
  admin: Object.keys(EVENTS),
};

describe('maySend', () => {
  for (const [name, principal] of Object.entries(P)) {
    it(`${name} sends exactly its events`, () => {
      const sendable = Object.keys(EVENTS).filter((key) => maySend(principal, EVENTS[key], { lookupRequest, transport: 'ws' }));
      expect(sendable).toEqual(SENDABLE[name]);
    });
  }

  it('an agent signs itself on and off only from its desk: over HTTP it is refused', () => {
    expect(maySend(P.agent, EVENTS.agentOnline, { lookupRequest, transport: 'http' })).toBe(false);
    expect(maySend(P.agent, EVENTS.agentOffline, { lookupRequest, transport: 'http' })).toBe(false);
    expect(maySend(P.agent, EVENTS.agentOnline, { lookupRequest })).toBe(false);
    expect(maySend(P.agent, EVENTS.statusSelf, { lookupRequest, transport: 'http' })).toBe(true);
    expect(maySend(P.ingest, EVENTS.agentOnline, { lookupRequest, transport: 'http' })).toBe(true);
  });

  it('a kiosk token without a location may send nothing', () => {
    const kiosk: Principal = { role: 'kiosk', sub: 'k1' };
    expect(Object.keys(EVENTS).filter((key) => maySend(kiosk, EVENTS[key], { lookupRequest }))).toEqual([]);
  });

  it('without a request lookup, acting on an existing request is refused', () => {
    expect(maySend(P.customer, EVENTS.customerMessageOwn)).toBe(false);
    expect(maySend(P.agent, EVENTS.completeOwn)).toBe(false);
    expect(maySend(P.customer, EVENTS.requestSelf)).toBe(true);
  });

  it('roles without send rights never send, whatever the event', () => {
    fc.assert(
      fc.property(fc.constantFrom(P.anonymous, P.supervisor), fc.anything(), (principal, event) => {
        expect(maySend(principal, event, { lookupRequest })).toBe(false);
      }),
    );
  });
});
