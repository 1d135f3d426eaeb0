// The data-subject export holds everything the server keeps about a customer. A real engine and
// gateway (one engine thread, and two) take every kind of event about one customer (ids of each
// kind linked, another customer merged in, a profile, activity in several sessions, a kiosk
// visit, orders with a return, more completed service requests than its record keeps, with
// messages, loyalty points earned, redeemed, refunded and expired, a coupon restricted to it,
// cases with notes, one opened for the customer merged in);
// then every record of the closed data dir's state and timers is read straight from LMDB, and each
// one that names the customer, one of its ids or one of its things (orders, requests,
// redemptions, coupons) must be shown by the export — or be one of the aggregates listed below
// with the reason. A second customer's records must not be matched, so the search is specific.
// Not scanned: the dedup answers (each event's answer, kept by event id for a day or two so that
// a retry gets the same answer) and the outbox (derived events not yet applied: empty once idle).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { post, startWsServer } from './ws-harness.ts';

const ANN = 'cust-ann';
const BEA = 'cust-bea';
const PHONE = 'phone:+4915100000077';
const EMAIL = 'email:ann@example.com';
const DEVICE = 'device:ann-tablet';
const WECHAT = 'wechat:ann_wx';
const CARD = 'card:ann-77';
const IDS = [ANN, BEA, PHONE, EMAIL, DEVICE, WECHAT, CARD];
const ORDERS = ['o-ann-1', 'o-ann-2', 'o-ann-3', 'o-ann-4', 'o-bea-1'];
/** Completed requests enough that the oldest are past the latest ones kept in the customer's service record. */
const HISTORY = Array.from({ length: 21 }, (_, i) => `qh-ann-${String(i + 1).padStart(2, '0')}`);
const REQUESTS = ['q-ann-1', 'q-ann-2', 'q-bea-1', ...HISTORY];
const REDEMPTIONS = ['R-ann-1', 'R-ann-2'];
const COUPON = 'K-ann-1';
const CASES = ['case-ann-1', 'case-bea-1'];
/** What names the customer or one of its things, in a key or a value. */
const NEEDLES = [...IDS, ...ORDERS, ...REQUESTS, ...REDEMPTIONS, COUPON, ...CASES];
/** Someone else, whose records must stay unmatched. */
const ZED = 'cust-zed';

const HOUR = 3_600_000;
const line = (sku: string, qty: number) => ({ sku, qty });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Aggregates: records that match a needle and are not part of the export, each with why.
 * Everything else that matches must be shown by the export (REPRESENTED).
 */
const AGGREGATES: Array<{ prefix: string; why: string }> = [
  {
    prefix: 'rec/i/',
    why: "an item's index for the recommender's neighbours (its popularity, and which sessions touched it when): it names the customer's sessions by id, whose activity the export shows from each session's own log (rec/s/); an erasure blanks them out of it",
  },
  { prefix: 'rec/c/', why: "an older chunk of an item's index, as rec/i/" },
];

type Export = Record<string, any>;
type Check = (key: string, value: any, held: Export) => boolean;

const activityOf = (held: Export) => new Set(held.sessions.flatMap((s: any) => s.activity.map((a: any) => `${a.sku}@${a.time}`)));
const orderShown = (held: Export, order: string) => held.orders.some((o: any) => o.order === order && o.history !== undefined);
const requestShown = (held: Export, request: string) => held.requests.some((r: any) => r.request === request);
const after = (key: string, prefix: string) => key.slice(prefix.length);
/** A queue or desk list (or a chunk of one): the customer's requests it names are exported with their status and agent. */
const listsShownRequests: Check = (_key, v, held) => idsIn(v).every((r) => !REQUESTS.includes(r) || requestShown(held, r));

/** How the export shows each kind of record, by key prefix (longest prefix first). */
const REPRESENTED: Array<{ prefix: string; shows: Check }> = [
  { prefix: 'id/x/', shows: (key, v, held) => held.ids.includes(after(key, 'id/x/')) && v.customer === held.customer },
  {
    prefix: 'id/c/',
    shows: (key, v, held) =>
      v.mergedInto !== undefined
        ? onlyFields(v, ['name', 'created', 'mergedInto']) && held.ids.includes(v.name) && v.mergedInto === held.customer
        : // `created`: its place in creation order (of two merging, the older survives); `since`: its identity log's first entry.
          onlyFields(v, ['name', 'created', 'ids', 'tier', 'language', 'since']) &&
          v.name === held.customer &&
          [...v.ids].sort().join() === [...held.ids].sort().join() &&
          v.tier === held.profile.tier &&
          v.language === held.profile.language &&
          (v.since === undefined || held.identityLog.some((e: any) => e.kind === 'created' && e.event === v.since.event && e.at === v.since.at)),
  },
  { prefix: 'id/log/', shows: (key, v, held) => after(key, 'id/log/') === held.customer && JSON.stringify(v) === JSON.stringify(held.identityLog) },
  { prefix: 'cu/sess/', shows: (_key, v, held) => held.sessions.some((s: any) => s.session === v.id && s.current === true) },
  { prefix: 'rec/s/', shows: (_key, v, held) => v.i.every((sku: string, j: number) => activityOf(held).has(`${sku}@${v.t[j]}`)) },
  { prefix: 'cu/orders/', shows: (_key, v, held) => v.every((o: any) => orderShown(held, o.order)) },
  { prefix: 'cu/ordersold/', shows: (_key, v, held) => v.every((order: string) => orderShown(held, order)) },
  { prefix: 'cu/moved/', shows: (key, v, held) => held.ids.includes(after(key, 'cu/moved/')) && held.ids.includes(v) },
  { prefix: 'cu/kiosksof/', shows: (_key, v, held) => v.every((kiosk: string) => held.kiosks.some((k: any) => k.kiosk === kiosk)) },
  { prefix: 'cu/kiosk/', shows: (_key, v, held) => held.kiosks.some((k: any) => JSON.stringify(k) === JSON.stringify(v)) },
  {
    prefix: 'cu/pts/',
    shows: (_key, v, held) =>
      // `redemptions`: the lots each redemption took, for its refund; the history shows each redemption and refund.
      // `timers`: the times of the expiry timers still pending (so an erasure can cancel them), numbers only;
      // each timer's own record is checked against the export below.
      onlyFields(v, ['lots', 'history', 'coupons', 'redemptions', 'timers']) &&
      (v.timers ?? []).every((at: unknown) => typeof at === 'number') &&
      held.loyalty !== undefined &&
      JSON.stringify(v.lots) === JSON.stringify(held.loyalty.lots) &&
      JSON.stringify(v.history) === JSON.stringify(held.loyalty.history) &&
      (v.coupons ?? []).every((c: string) => held.loyalty.coupons.some((x: any) => x.coupon === c)) &&
      Object.keys(v.redemptions).every((r) => held.loyalty.history.some((h: any) => h.redemption === r)),
  },
  { prefix: 'lo/rd/', shows: (key, v, held) => held.ids.includes(v) && held.loyalty.history.some((h: any) => h.redemption === after(key, 'lo/rd/')) },
  {
    prefix: 'lo/cp/',
    shows: (key, v, held) => held.loyalty.coupons.some((c: any) => c.coupon === after(key, 'lo/cp/') && c.subject === v.subject && c.uses === v.uses && c.maxUses === v.maxUses && c.value === v.value),
  },
  { prefix: 'stock/order/', shows: (_key, v, held) => orderShown(held, v.id) && orderFieldsShown(v, held.orders.find((o: any) => o.order === v.id)) },
  // An order's own reservations (`order:<order>:<line>`): the order in full shows its lines.
  { prefix: 'stock/res/order:', shows: (key, _v, held) => orderShown(held, after(key, 'stock/res/order:').replace(/:\d+$/, '')) },
  { prefix: 'svc/cust/', shows: (_key, v, held) => [...v.open, ...v.past].every((r: string) => requestShown(held, r)) },
  { prefix: 'svc/custold/', shows: (_key, v, held) => v.every((r: string) => requestShown(held, r)) },
  { prefix: 'svc/req/', shows: (_key, v, held) => requestShown(held, v.id) && requestFieldsShown(v, held.requests.find((r: any) => r.request === v.id), held) },
  { prefix: 'svc/msgs/', shows: (key, v, held) => held.requests.find((r: any) => r.request === after(key, 'svc/msgs/'))?.messages.length === v },
  { prefix: 'svc/msg/', shows: (key, v, held) => held.requests.find((r: any) => r.request === key.replace(/^svc\/msg\/\d+\//, ''))?.messages.some((m: any) => m.text === v.text) },
  { prefix: 'svc/case/', shows: (_key, v, held) => caseShown(held, v) },
  // The service figures' records of the customer: when its open requests were raised (shown as
  // the request's enqueue time) and when its requests on each topic last ended (shown as an
  // ended request of that topic and channel).
  { prefix: 'svc/fig/req/', shows: (key, v, held) => held.requests.some((r: any) => r.request === after(key, 'svc/fig/req/') && r.enqueuedAt === v.requestedAt) },
  {
    prefix: 'svc/fig/last/',
    shows: (_key, v, held) => v.every((e: any) => held.requests.some((r: any) => r.topic === e.topic && r.channel === e.channel && r.completedAt === e.endedAt)),
  },
  { prefix: 'svc/cases/', shows: (_key, v, held) => v.every((id: string) => held.cases.some((k: any) => k.case === id)) },
  { prefix: 'svc/rl/', shows: listsShownRequests },
  { prefix: 'svc/agent/', shows: listsShownRequests },
  { prefix: 'svc/chunk/', shows: listsShownRequests },
  { prefix: 'svc/pref/', shows: listsShownRequests },
  // How many updates a topic has had (subscribers resume from it): the topic shows the customer's
  // points or list, an order or a request, all of which the export shows.
  { prefix: '$seq/', shows: (key, _v, held) => topicShown(held, after(key, '$seq/')) },
];

/** Fields of a stock order record that no order view shows, each with why. */
const ORDER_INTERNALS: Record<string, string> = {
  id: 'shown as `order`',
  counted: 'which commerce counts the order has sent (each kind once): anonymous figures',
  origin: 'the id of the event that placed it, to know a repeated reply of a SKU',
  saga: 'while its placing or a return is under way',
  shipSlots: "the shipping slots it took at a location's daily capacity, to give back",
  returnFrom: 'when its return window starts: its history shows the status that started it',
  readyUntil: 'shown while it is ready (the pickup hold), meaningless after',
};

/** Every field of the order's record is in the exported order, as stored (when it was placed: its history's first entry). */
function orderFieldsShown(record: Record<string, unknown>, shown: Record<string, any>): boolean {
  return Object.entries(record).every(([field, value]) => {
    if (field === 'placedAt') return shown.history[0]?.status === 'placed' && shown.history[0].at === value;
    return field in ORDER_INTERNALS || JSON.stringify(shown[field]) === JSON.stringify(value);
  });
}

/** Fields of a service request record that the export leaves out, each with why. */
const REQUEST_INTERNALS: Record<string, string> = {
  id: 'shown as `request`',
  rank: 'its place in the queue order, a number only the routing reads',
  offer: "the live offer to an agent (which agent, until when): the desk's state while it waits for an answer",
  lastAgent: 'the agent that last declined it or let an offer lapse, so that it is not offered to them twice in a row',
  preferredAgent: 'the agent of the conversation it joined (`conversation` is shown), tried first',
};

/** Every field of the request's record is in the exported request, as stored (its customer is the export's). */
function requestFieldsShown(record: Record<string, unknown>, shown: Record<string, unknown>, held: Export): boolean {
  return Object.entries(record).every(([field, value]) => {
    if (field === 'customer') return held.ids.includes(value);
    return field in REQUEST_INTERNALS || JSON.stringify(shown[field]) === JSON.stringify(value);
  });
}

function topicShown(held: Export, topic: string): boolean {
  const [kind, ...rest] = topic.split('/');
  const name = rest.join('/');
  if (kind === 'recs' || kind === 'loyalty') return held.ids.includes(name);
  if (kind === 'order') return orderShown(held, name);
  if (kind === 'request') return requestShown(held, name);
  if (kind === 'kiosk') return held.kiosks.some((k: any) => k.kiosk === name);
  if (kind === 'cases') return held.ids.includes(name);
  return false;
}

/** The case is exported with every field of its record as stored (its customer is the export's). */
function caseShown(held: Export, record: Record<string, unknown>): boolean {
  const shown = held.cases.find((k: any) => k.case === record.case);
  return shown !== undefined && Object.entries(record).every(([field, value]) => (field === 'customer' ? held.ids.includes(value) : JSON.stringify(shown[field]) === JSON.stringify(value)));
}

/** A record holds no field but these: a field added later must be considered for the export (and this test). */
const onlyFields = (record: Record<string, unknown>, known: readonly string[]) => Object.keys(record).every((field) => known.includes(field));

/** Every string inside a value. */
function idsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(idsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(idsIn);
  return [];
}

/** Timers naming the customer, by their ids: a lot's expiry (`loyalty/<name>/<at>`), a request's offer or service level. */
const TIMERS: Array<{ prefix: string; shows: Check }> = [
  { prefix: 'loyalty/', shows: (_key, v, held) => held.ids.includes(v.data.name) && held.loyalty.lots.some((l: any) => l.at === v.data.at) },
  { prefix: 'offer/', shows: (key, _v, held) => requestShown(held, after(key, 'offer/')) },
  { prefix: 'sla/', shows: (key, _v, held) => requestShown(held, after(key, 'sla/')) },
  { prefix: 'case/', shows: (key, _v, held) => held.cases.some((k: any) => k.case === after(key, 'case/') && k.status !== 'resolved') },
];

const longestFirst = <T extends { prefix: string }>(rules: T[]) => [...rules].sort((a, b) => b.prefix.length - a.prefix.length);

/** The records of a closed data dir's database `name` whose key or value names one of `needles`. */
async function recordsNaming(dir: string, name: string, needles: readonly string[]): Promise<Array<{ key: string; value: any }>> {
  const env = open({ path: dir, maxDbs: 64, noSubdir: false, readOnly: true });
  try {
    const out: Array<{ key: string; value: any }> = [];
    for (const { key, value } of env.openDB<unknown, string>({ name }).getRange()) {
      const text = `${String(key)}\u0000${JSON.stringify(value)}`;
      if (needles.some((n) => text.includes(n))) out.push({ key: String(key), value });
    }
    return out;
  } finally {
    await env.close();
  }
}

describe('GET /v1/customers/:subject holds every record about the customer', () => {
  it('after every kind of event about it, every state record and timer naming it is in the export (but the listed aggregates)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-export-all-'));
    dirs.push(dir);
    // Two summaries kept per customer: the older orders are kept by id only.
    const s = await startWsServer({}, dir, { customers: { ordersKept: 2 } });
    const send = async (...events: Array<Record<string, unknown>>) => {
      const answers = await post(s.url, s.token('ingest'), events);
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      // Moves, order news and redemption indexes are derived steps, applied after the answers.
      await s.engine.idle();
    };
    const now = Date.now();
    const T0 = now - 10 * HOUR;
    const view = (id: string, subject: string, sku: string, ts: number) => ({ id, type: 'activity.viewed', subject, sku, channel: 'web', ts });
    let held: Export;
    try {
      await send(
        { id: 'loc', type: 'location.upserted', location: 'S1', kind: 'store', lat: 52.5, lon: 13.4 },
        ...['A', 'B', 'C', 'D'].map((sku) => ({ id: `recv-${sku}`, type: 'stock.received', sku, location: 'S1', qty: 50 })),
        { id: 'ag1-on', type: 'agent.online', agent: 'ag1', skills: { returns: 5 }, capacity: { chat: 2 }, languages: ['de'] },
        { id: 'link-ann', type: 'identity.linked', ids: [PHONE, EMAIL], customer: ANN },
        { id: 'link-bea', type: 'identity.linked', ids: [WECHAT], customer: BEA },
        { id: 'link-zed', type: 'identity.linked', ids: ['phone:+4915100000099'], customer: ZED },
        { id: 'prof', type: 'customer.profile', customer: PHONE, tier: 'vip', language: 'de' },
      );
      // Activity in three sessions (hours apart), by several ids; the device still anonymous; bea and zed too.
      await send(
        view('v1', ANN, 'A', T0),
        view('v2', PHONE, 'B', T0 + 60_000),
        view('v3', EMAIL, 'C', T0 + 2 * HOUR),
        { id: 'v4', type: 'activity.carted', subject: ANN, sku: 'C', channel: 'app', ts: T0 + 2 * HOUR + 1000 },
        view('v5', DEVICE, 'D', T0 + 3 * HOUR),
        view('v6', BEA, 'A', T0 + 4 * HOUR),
        view('v7', ANN, 'D', T0 + 5 * HOUR),
        view('vz', ZED, 'A', T0 + 5 * HOUR),
      );
      // Orders: one by the device while anonymous, one of bea's, one to return, one cancelled.
      await send(
        { id: 'p3', type: 'order.placed', order: 'o-ann-3', customer: DEVICE, channel: 'app', pickup: 'S1', lines: [line('D', 1)], ts: T0 + 3 * HOUR },
        { id: 'pb', type: 'order.placed', order: 'o-bea-1', customer: BEA, channel: 'web', pickup: 'S1', lines: [line('A', 1)], ts: T0 + 4 * HOUR },
        { id: 'p1', type: 'order.placed', order: 'o-ann-1', customer: PHONE, channel: 'web', pickup: 'S1', lines: [line('A', 2)], ts: T0 + 5 * HOUR },
        { id: 'p2', type: 'order.placed', order: 'o-ann-2', customer: ANN, channel: 'app', pickup: 'S1', lines: [line('B', 1)], ts: T0 + 5 * HOUR },
        { id: 'p4', type: 'order.placed', order: 'o-ann-4', customer: EMAIL, channel: 'web', ship: { lat: 52.52, lon: 13.41 }, lines: [line('C', 1)], ts: T0 + 5 * HOUR },
        { id: 'pz', type: 'order.placed', order: 'o-zed-1', customer: ZED, channel: 'web', pickup: 'S1', lines: [line('B', 1)], ts: T0 + 5 * HOUR },
      );
      await send(
        { id: 'r1', type: 'order.ready', order: 'o-ann-1', ts: T0 + 6 * HOUR },
        { id: 'c2', type: 'order.cancelled', order: 'o-ann-2', ts: T0 + 6 * HOUR },
        { id: 's4', type: 'order.shipped', order: 'o-ann-4', carrier: 'dhl', tracking: 'JD0140-ANN', ts: T0 + 6 * HOUR },
      );
      await send({ id: 'u1', type: 'order.picked_up', order: 'o-ann-1', ts: T0 + 6 * HOUR + 1 });
      await send({ id: 'ret1', type: 'order.returned', return: 'ret-1', order: 'o-ann-1', lines: [line('A', 1)], location: 'S1', ts: T0 + 7 * HOUR });
      // Service: bea's request, one of ann's taken by an agent, talked through and completed, one still queued.
      await send(
        { id: 'sqb', type: 'service.requested', request: 'q-bea-1', subject: BEA, channel: 'email', topic: 'returns' },
        { id: 'sq1', type: 'service.requested', request: 'q-ann-1', subject: EMAIL, channel: 'chat', topic: 'returns' },
        { id: 'sqz', type: 'service.requested', request: 'q-zed-1', subject: ZED, channel: 'email', topic: 'returns' },
      );
      await send({ id: 'acc1', type: 'service.accepted', request: 'q-ann-1', agent: 'ag1' });
      await send(
        { id: 'mb', type: 'service.message', request: 'q-bea-1', from: 'customer', text: 'Bea asks about a parcel' },
        { id: 'm1', type: 'service.message', request: 'q-ann-1', from: 'customer', text: 'Ann wants to return a shirt' },
        { id: 'm2', type: 'service.message', request: 'q-ann-1', from: 'agent', text: 'Bring it to the store' },
      );
      await send({ id: 'done1', type: 'service.completed', request: 'q-ann-1' });
      await send(...HISTORY.map((request) => ({ id: `rq-${request}`, type: 'service.requested', request, subject: PHONE, channel: 'email', topic: 'returns' })));
      await send({ id: 'mh', type: 'service.message', request: HISTORY[0], from: 'customer', text: 'An old question' });
      for (const request of HISTORY) await send({ id: `done-${request}`, type: 'service.completed', request });
      // Cases: bea's before the merge (moved to ann by it), ann's by its phone, with notes; one resolved.
      await send(
        { id: 'kb1', type: 'case.opened', case: 'case-bea-1', subject: WECHAT, topic: 'returns', team: 'care', summary: 'Bea: parcel lost', request: 'q-bea-1' },
        { id: 'ka1', type: 'case.opened', case: 'case-ann-1', subject: PHONE, topic: 'returns', team: 'care', summary: 'Ann: refund for the shirt', dueMs: 7 * 24 * HOUR },
      );
      await send({ id: 'kan', type: 'case.updated', case: 'case-ann-1', status: 'pending', note: 'Ann sent the receipt' }, { id: 'kbn', type: 'case.updated', case: 'case-bea-1', status: 'resolved', note: 'Bea got a new parcel' });
      // Loyalty and a coupon of bea's before the merge.
      await send({ id: 'eb', type: 'loyalty.earned', subject: BEA, points: 30, reason: 'welcome' });
      // The merge: bea joins ann through the wechat id, the device and a card id are attached.
      await send({ id: 'merge', type: 'identity.linked', ids: [EMAIL, WECHAT, DEVICE, CARD] });
      await send({ id: 'sq2', type: 'service.requested', request: 'q-ann-2', subject: DEVICE, channel: 'email', topic: 'returns' });
      // One answered by the bot (no agent could take it) and resolved by it on the customer's word.
      await send({ id: 'sq3', type: 'service.requested', request: 'q-ann-3', subject: PHONE, channel: 'chat', topic: 'refunds', text: 'Where is my refund?' });
      await send({ id: 'res3', type: 'service.resolved', request: 'q-ann-3', by: 'bot' });
      await send(
        { id: 'kiosk', type: 'kiosk.identified', kiosk: 'k1', location: 'S1', subject: DEVICE },
        { id: 'e2', type: 'loyalty.earned', subject: CARD, points: 50, expiresAt: now + 30 * 24 * HOUR },
        { id: 'ez', type: 'loyalty.earned', subject: ZED, points: 7 },
        { id: 'kiss', type: 'coupon.issued', coupon: COUPON, subject: PHONE, value: 5, maxUses: 2 },
      );
      // Earned two hours ago, expired an hour ago: its expiry timer is due at once, and fires
      // before the customer's next loyalty event (which would no longer count those points).
      await send({ id: 'e1', type: 'loyalty.earned', subject: PHONE, points: 100, reason: 'purchase', order: 'o-ann-1', ts: now - 2 * HOUR, expiresAt: now - HOUR });
      await s.engine.runDueTimers();
      await send({ id: 'red1', type: 'loyalty.redeemed', subject: EMAIL, points: 40, redemption: 'R-ann-1' });
      await send({ id: 'ref1', type: 'loyalty.refunded', redemption: 'R-ann-1' }, { id: 'red2', type: 'loyalty.redeemed', subject: DEVICE, points: 20, redemption: 'R-ann-2' });
      await send({ id: 'use', type: 'coupon.redeemed', coupon: COUPON, subject: CARD });
      const response = await fetch(`${s.url}/v1/customers/${encodeURIComponent(DEVICE)}`, { headers: { authorization: `Bearer ${s.token('admin')}` } });
      expect(response.status).toBe(200);
      held = (await response.json()) as Export;
    } finally {
      await s.stop(true);
    }

    // The events did what they were meant to: a merged customer with every kind of record.
    expect(held.customer).toBe(ANN);
    expect([...held.ids].sort()).toEqual([...IDS].sort());
    expect(new Set(held.sessions.map((s: any) => s.session.split('#')[0]))).toEqual(new Set([ANN, DEVICE, BEA]));
    expect(held.loyalty.history.map((h: any) => h.kind)).toEqual(expect.arrayContaining(['earned', 'redeemed', 'refunded', 'expired']));
    expect(held.identityLog.map((e: any) => e.kind)).toContain('merged');
    expect(held.cases.map((k: any) => [k.case, k.status]).sort()).toEqual([
      ['case-ann-1', 'pending'],
      ['case-bea-1', 'resolved'],
    ]);

    const state = await recordsNaming(dir, 'state', NEEDLES);
    const timers = await recordsNaming(dir, 'timers', NEEDLES);
    // Every kind of record the events leave was found (the scan finds what it looks for) …
    const prefixes = new Set(state.map((r) => r.key.replace(/^((?:[^/]+\/){1,2}).*$/, '$1')));
    for (const p of ['id/x/', 'id/c/', 'id/log/', 'cu/sess/', 'rec/s/', 'cu/orders/', 'cu/ordersold/', 'cu/moved/', 'cu/kiosk/', 'cu/kiosksof/', 'cu/pts/', 'lo/rd/', 'lo/cp/', 'stock/order/', 'stock/res/', 'svc/cust/', 'svc/custold/', 'svc/req/', 'svc/msg/', 'svc/msgs/', 'svc/case/', 'svc/cases/', 'svc/fig/', 'svc/rl/', 'rec/i/', '$seq/recs/', '$seq/loyalty/', '$seq/order/', '$seq/request/']) {
      expect(prefixes, p).toContain(p);
    }
    // The card's points expire in a month: their timer is still set.
    expect(timers.map((t) => t.value.id)).toContainEqual(expect.stringMatching(/^loyalty\/cust-ann\//));
    // … and none of the other customer's own records (its ids, orders and requests in their keys).
    const zeds = (await recordsNaming(dir, 'state', [ZED, 'o-zed-1', 'q-zed-1'])).map((r) => r.key).filter((key) => key.includes('zed'));
    expect(zeds.length).toBeGreaterThan(5);
    expect(state.map((r) => r.key).filter((key) => zeds.includes(key))).toEqual([]);

    const missing: string[] = [];
    const check = (records: Array<{ key: string; value: any }>, rules: Array<{ prefix: string; shows: Check }>, aggregates: typeof AGGREGATES) => {
      for (const { key, value } of records) {
        if (aggregates.some((a) => key.startsWith(a.prefix))) continue;
        const rule = longestFirst(rules).find((r) => key.startsWith(r.prefix));
        if (rule === undefined || !rule.shows(key, value, held)) missing.push(`${key} = ${JSON.stringify(value)}`);
      }
    };
    check(state, REPRESENTED, AGGREGATES);
    // A timer's key leads with its processor's name; its id is what names it.
    check(timers.map(({ value }) => ({ key: value.id, value })), TIMERS, []);
    expect(missing).toEqual([]);
  });
});
