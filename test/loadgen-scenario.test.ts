// The loadgen scenarios: `omnichannel` is deterministic, keeps its mix, only ever follows up on
// ids made at least the lag earlier, and every event its stock roles make is one the real stock
// processor accepts; scenario files are read strictly; kiosks watch their own store with kiosk
// tokens; and a tiny real run against a real server adds up. The customer role has its own
// tests (loadgen-customers.test.ts).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StockWorkload } from '../loadgen/stock-workload.ts';
import { stockProcessor } from '../engine/stock/mod.ts';
import { readEvent } from '../engine/mod.ts';
import { verifyToken } from '../gateway/mod.ts';
import { readOptions, type LoadgenOptions } from '../loadgen/options.ts';
import { Namespace, namespaced } from '../loadgen/namespace.ts';
import { runLoadgen, subscriberTokens } from '../loadgen/run.ts';
import { openScenario, parseScenarioFile, readScenarioFile, type EventSource } from '../loadgen/scenario.ts';
import { OmnichannelScenario } from '../loadgen/scenarios/omnichannel.ts';
import { CHANNEL_SHARES, priceOf } from '../loadgen/scenarios/checkout.ts';
import { omnichannelDefaults } from '../loadgen/scenarios/omnichannel-config.ts';
import type { OmnichannelConfig } from '../loadgen/scenarios/types.ts';
import { TEST_SECRET, getJson, startTestServer, type TestServer } from './gateway-harness.ts';
import { shortRun } from './loadgen-harness.ts';
import { PureRunner } from './pure-harness.ts';

const LAG = 400;
/** The roles that move stock, without customers browsing. */
const STOCK_MIX = { checkout: 2, cart: 3, counter: 4, warehouse: 1 };

function omni(over: Partial<OmnichannelConfig> = {}, lag = LAG): OmnichannelScenario {
  return new OmnichannelScenario({ ...omnichannelDefaults(300), ...over }, 'run', lag);
}

const take = (source: EventSource, n: number) => Array.from({ length: n }, () => source.next());

const ROLE_OF: Record<string, string> = {
  'order.placed': 'checkout',
  'order.fulfilled': 'checkout',
  'order.cancelled': 'checkout',
  'order.ready': 'checkout',
  'order.picked_up': 'checkout',
  'order.shipped': 'checkout',
  'order.delivered': 'checkout',
  'order.returned': 'checkout',
  'stock.reserve': 'cart',
  'stock.commit': 'cart',
  'stock.release': 'cart',
  'stock.sold': 'counter',
  'stock.returned': 'counter',
  'stock.received': 'warehouse',
  'stock.transfer': 'warehouse',
  'activity.viewed': 'customer',
  'activity.carted': 'customer',
  'activity.purchased': 'customer',
  'identity.linked': 'customer',
  'kiosk.identified': 'customer',
};

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code);

describe('omnichannel scenario', () => {
  it('is deterministic for a seed, and another seed makes another stream', () => {
    const a = omni();
    const b = omni();
    expect(b.setup()).toEqual(a.setup());
    expect(take(b, 3000)).toEqual(take(a, 3000));
    expect(b.subscribers(50)).toEqual(a.subscribers(50));
    expect(take(omni({ seed: 7 }), 200)).not.toEqual(take(omni(), 200));
    // Through the public entry point, by name: the defaults with --skus, every name in the run's namespace.
    const named = openScenario({ scenario: 'omnichannel', skus: 300, idPrefix: 'run', releaseLag: LAG });
    expect(named.name).toBe('omnichannel');
    expect(take(named, 500)).toEqual(take(namespaced(omni(), 'run'), 500));
  });

  it('keeps the mix between roles, and a role with weight 0 makes nothing', () => {
    const mix = { checkout: 2, cart: 3, counter: 4, warehouse: 1, customer: 10 };
    const n = 40_000;
    const counts: Record<string, number> = {};
    for (const ev of take(omni({ mix }), n)) counts[ROLE_OF[ev.type]] = (counts[ROLE_OF[ev.type]] ?? 0) + 1;
    for (const [role, w] of Object.entries(mix)) expect(Math.abs(counts[role] / n - w / 20)).toBeLessThan(0.01);
    expect(Object.keys(counts).sort()).toEqual(Object.keys(mix).sort());

    const types = new Set(take(omni({ mix: { counter: 1, warehouse: 1 } }), 5000).map((e) => e.type));
    expect([...types].sort()).toEqual(['stock.received', 'stock.returned', 'stock.sold', 'stock.transfer']);
  });

  it('follows up only on ids it made, at least the lag after its previous step; a hold once, an order step by step', () => {
    const made = new Map<string, number>(); // reservation or order → event number of its last step
    const done = new Set<string>();
    // What may follow an order's last step in its life (a pickup is made ready first; a shipment is delivered; a return ends it).
    const next: Record<string, string[]> = {
      'order.placed': ['order.ready', 'order.shipped', 'order.cancelled'],
      'order.ready': ['order.picked_up', 'order.cancelled'],
      'order.picked_up': ['order.returned'],
      'order.shipped': ['order.delivered'],
      'order.delivered': ['order.returned'],
    };
    const lastStep = new Map<string, string>();
    const ids = new Set<string>();
    const transfers = new Set<string>();
    let followUps = 0;
    take(omni({ mix: STOCK_MIX }), 30_000).forEach((ev, n) => {
      expect(ids.has(ev.id)).toBe(false);
      ids.add(ev.id);
      const key = ev.type.startsWith('order.') ? `order:${ev.order}` : `hold:${ev.reservation}`;
      if (ev.type === 'order.placed' || ev.type === 'stock.reserve') {
        expect(made.has(key)).toBe(false);
        made.set(key, n);
        if (ev.type === 'stock.reserve') expect(ev.ttlMs).toBeGreaterThanOrEqual(600_000);
        lastStep.set(key, ev.type);
      } else if (ev.type.startsWith('order.')) {
        followUps++;
        expect(made.has(key)).toBe(true);
        expect(n - made.get(key)!).toBeGreaterThanOrEqual(LAG);
        expect(next[lastStep.get(key)!] ?? []).toContain(ev.type);
        made.set(key, n);
        lastStep.set(key, ev.type);
      } else if (['stock.commit', 'stock.release'].includes(ev.type)) {
        followUps++;
        expect(made.has(key)).toBe(true);
        expect(n - made.get(key)!).toBeGreaterThanOrEqual(LAG);
        expect(done.has(key)).toBe(false);
        done.add(key);
      } else if (ev.type === 'stock.transfer') {
        expect(transfers.has(ev.transfer as string)).toBe(false);
        transfers.add(ev.transfer as string);
      }
    });
    expect(followUps).toBeGreaterThan(5000);
  });

  it('makes only events the real stock processor accepts', () => {
    const source = omni({ mix: STOCK_MIX });
    const r = new PureRunner(stockProcessor());
    const setup = source.setup().flat();
    for (const ev of setup) expect(code(r.apply(ev).result)).toBe('ok');
    const locations = setup.filter((e) => e.type === 'location.upserted');
    expect(locations.filter((l) => l.kind === 'store')).toHaveLength(20);
    expect(locations.filter((l) => l.kind === 'warehouse')).toHaveLength(2);
    // Real places: all of them in Germany.
    for (const l of locations) {
      expect(l.lat as number).toBeGreaterThan(47.2);
      expect(l.lat as number).toBeLessThan(55.1);
      expect(l.lon as number).toBeGreaterThan(5.8);
      expect(l.lon as number).toBeLessThan(15.1);
    }

    const rejectedSteps = new Set<string>();
    const codes: Record<string, number> = {};
    const n = 40_000;
    for (const ev of take(source, n)) {
      expect(readEvent(() => r.processor, ev)).toEqual(ev);
      const c = code(r.apply(ev).result);
      codes[c] = (codes[c] ?? 0) + 1;
      const key = (ev.order ?? ev.reservation) as string | undefined;
      if (ev.type === 'order.placed' || ev.type === 'stock.reserve') {
        if (c !== 'ok') rejectedSteps.add(key!);
      } else if (key !== undefined) {
        // A follow-up fails exactly when the step it follows was refused.
        expect(c).toBe(rejectedSteps.has(key) ? (ev.order ? 'unknown_order' : 'unknown_reservation') : 'ok');
      }
    }
    expect(codes.invalid_event ?? 0).toBe(0);
    expect(codes.unknown_location ?? 0).toBe(0);
    expect(codes.conflict ?? 0).toBe(0);
    expect(codes.insufficient_stock ?? 0).toBeLessThan(n * 0.002);
    expect(codes.ok).toBeGreaterThan(n * 0.99);
  });

  it('orders have 1 to maxOrderLines distinct priced SKUs, in the channels\' shares, shipped or picked up at a store', () => {
    const events = take(omni({ maxOrderLines: 5, pickupShare: 0.5 }), 20_000).filter((e) => e.type === 'order.placed');
    const stores = new Set(omni().setup()[0].filter((l) => l.kind === 'store').map((l) => l.location));
    const sizes = new Set<number>();
    const channels: Record<string, number> = {};
    let pickups = 0;
    for (const o of events) {
      const lines = o.lines as Array<{ sku: string; qty: number; price: number }>;
      sizes.add(lines.length);
      expect(new Set(lines.map((l) => l.sku)).size).toBe(lines.length);
      for (const l of lines) expect(l.price).toBe(priceOf(l.sku));
      expect(o.currency).toBe('EUR');
      channels[o.channel as string] = (channels[o.channel as string] ?? 0) + 1;
      // A store's counter orders what its shelf lacks for delivery (the endless aisle).
      if (o.channel === 'store') expect(o.ship).toBeDefined();
      if (o.pickup !== undefined) {
        pickups++;
        expect(stores.has(o.pickup as string)).toBe(true);
        expect(o.ship).toBeUndefined();
      } else expect(o.ship).toMatchObject({ lat: expect.any(Number), lon: expect.any(Number) });
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(Math.abs(pickups / (events.length - channels.store) - 0.5)).toBeLessThan(0.05);
    for (const [channel, share] of CHANNEL_SHARES) expect(Math.abs(channels[channel] / events.length - share)).toBeLessThan(0.03);
  });
});

describe('subscribers: storefront shoppers and kiosks', () => {
  const KIOSK_TOPIC = /^stock\/SKU-\d{6}@(store-[a-z-]+-\d+)$/;

  it('kiosks watch their screen and stock/<sku>@<their store>, at most half of the subscribers; shoppers watch stock/<sku>', () => {
    const stores = new Set(omni().setup()[0].filter((l) => l.kind === 'store').map((l) => l.location));
    const plans = omni({ kiosksPerStore: 2 }).subscribers(1000);
    const kiosks = plans.filter((p) => p.as.role === 'kiosk');
    expect(kiosks).toHaveLength(40);
    expect(new Set(kiosks.map((k) => (k.as.role === 'kiosk' ? k.as.kiosk : ''))).size).toBe(40);
    for (const k of kiosks) {
      if (k.as.role !== 'kiosk') continue;
      expect(stores.has(k.as.store)).toBe(true);
      expect(k.topics[0]).toBe(`kiosk/${k.as.kiosk}`);
      expect(k.topics.length).toBeGreaterThanOrEqual(3);
      for (const t of k.topics.slice(1)) expect(KIOSK_TOPIC.exec(t)?.[1]).toBe(k.as.store);
    }
    // One associate per store, on its store's notices and some of its stock.
    const associates = plans.filter((p) => p.as.role === 'associate');
    expect(associates).toHaveLength(20);
    for (const a of associates) {
      if (a.as.role !== 'associate') continue;
      expect(a.topics[0]).toBe(`store/${a.as.store}`);
      for (const t of a.topics.slice(1)) expect(KIOSK_TOPIC.exec(t)?.[1]).toBe(a.as.store);
    }
    expect(new Set(associates.map((a) => (a.as.role === 'associate' ? a.as.store : ''))).size).toBe(20);
    // The 960 storefront clients: 20% are members also on their recommendations, 20 of the rest associates.
    const shoppers = plans.filter((p) => p.as.role === 'shopper');
    expect(shoppers).toHaveLength(748);
    expect(plans.filter((p) => p.as.role === 'customer')).toHaveLength(192);
    for (const s of shoppers) for (const t of s.topics) expect(t).toMatch(/^stock\/SKU-\d{6}$/);

    expect(omni().subscribers(10).filter((p) => p.as.role === 'kiosk')).toHaveLength(5);
    expect(omni({ kiosksPerStore: 0 }).subscribers(10).some((p) => p.as.role === 'kiosk')).toBe(false);
  });

  it('kiosks get kiosk tokens (sub = kiosk id, loc = store), associates associate tokens (sub = staff id, loc = store), shoppers the customer token', () => {
    const o = readOptions(['--url', 'http://127.0.0.1:9', '--secret', TEST_SECRET]) as LoadgenOptions;
    const plans = omni().subscribers(8);
    const warnings: string[] = [];
    const tokens = subscriberTokens(plans, o, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    plans.forEach((p, i) => {
      const v = verifyToken(tokens[i]!, TEST_SECRET);
      if (!v.ok) throw new Error(v.reason);
      if (p.as.role === 'kiosk') expect(v.claims).toMatchObject({ role: 'kiosk', sub: p.as.kiosk, loc: p.as.store });
      else if (p.as.role === 'customer') expect(v.claims).toMatchObject({ role: 'customer', sub: p.as.customer });
      else if (p.as.role === 'associate') expect(v.claims).toMatchObject({ role: 'associate', sub: p.as.staff, loc: p.as.store });
      else expect(v.claims).toMatchObject({ role: 'customer', sub: 'loadgen-subscriber' });
    });
    // With only --token there is no secret: kiosks connect as shoppers (anonymously), with a warning.
    const anonymous = subscriberTokens(plans, { subscriberToken: undefined, mintToken: undefined }, (w) => warnings.push(w));
    expect(anonymous.every((t) => t === undefined)).toBe(true);
    expect(plans.some((p) => p.as.role === 'associate')).toBe(true);
    expect(warnings[0]).toMatch(/kiosk tokens or customer tokens or associate tokens/);
  });

  it('the stock scenario is unchanged: the bench workload (its SKUs and locations in the run\'s namespace), shoppers only', () => {
    const source = openScenario({ scenario: 'stock', skus: 100, idPrefix: 'x', releaseLag: 50 });
    const bench = new StockWorkload({ skus: 100, locations: 10, dist: 'zipf', idPrefix: 'x', releaseLag: 50, seed: 42 });
    const ns = new Namespace('x');
    expect(take(source, 2000)).toEqual(bench.chunks(2000, 2000)[0].map((ev) => ns.event(ev)));
    const plans = source.subscribers(20);
    expect(plans.every((p) => p.as.role === 'shopper' && p.topics.length >= 1 && p.topics.length <= 5)).toBe(true);
  });
});

describe('scenario files', () => {
  const parse = (raw: unknown) => parseScenarioFile(raw, 'f.json', 1000);

  it('accepts omnichannel settings, with defaults for what is left out', () => {
    const spec = parse({ scenario: 'omnichannel', mix: STOCK_MIX, stores: 20, warehouses: 2, skus: 5000, kiosksPerStore: 2 });
    expect(spec).toEqual({ kind: 'omnichannel', config: { ...omnichannelDefaults(5000), mix: STOCK_MIX, kiosksPerStore: 2 } });
    const minimal = parse({ scenario: 'omnichannel' });
    expect(minimal).toEqual({ kind: 'omnichannel', config: omnichannelDefaults(1000) });
    // A partial mix: the roles it leaves out make nothing.
    expect(parse({ scenario: 'omnichannel', mix: { counter: 1 }, pickupShare: 0, seed: 9 })).toMatchObject({ kind: 'omnichannel', config: { mix: { counter: 1 }, pickupShare: 0, seed: 9 } });
    // The original stock-type mix still reads as before.
    expect(parse({ mix: { 'stock.sold': 2 }, skus: 10, locations: 2 })).toEqual({ kind: 'mix', file: { mix: { 'stock.sold': 2 }, skus: 10, locations: 2 } });
  });

  it.each([
    [{ scenario: 'omnichannel', store: 3 }, /unknown key "store"/],
    [{ scenario: 'omnichannel', stores: 0 }, /"stores" must be an integer from 1 to 500 \(got 0\)/],
    [{ scenario: 'omnichannel', skus: 1.5 }, /"skus" must be an integer/],
    [{ scenario: 'omnichannel', warehouses: '2' }, /"warehouses" must be an integer .*\(got "2"\)/],
    [{ scenario: 'omnichannel', pickupShare: 2 }, /"pickupShare" must be a number from 0 to 1/],
    [{ scenario: 'omnichannel', maxOrderLines: 201 }, /"maxOrderLines"/],
    [{ scenario: 'omnichannel', mix: { checkout: 1, kiosk: 1 } }, /role "kiosk" is not one of checkout, cart, counter, warehouse/],
    [{ scenario: 'omnichannel', mix: { agent: 1 } }, /role "agent" is not available yet: agent desks .*--scenario service/],
    [{ scenario: 'omnichannel', mix: { chat: 1 } }, /role "chat" is not available yet: .*--scenario service/],
    [{ scenario: 'omnichannel', mix: { cart: -1 } }, /weight of "cart" must be a number ≥ 0/],
    [{ scenario: 'omnichannel', mix: { cart: 0 } }, /no positive weight/],
    [{ scenario: 'omnichannel', mix: [1] }, /"mix" must be an object/],
    [{ scenario: 'omnichannel', skus: 1_000_000, stores: 500 }, /rows of starting stock; at most 10,000,000/],
    [{ scenario: 'stock' }, /"scenario" must be "omnichannel"/],
    [{ mix: { 'order.placed': 1 }, skus: 10, locations: 2 }, /not one of/],
  ])('rejects %j', (raw, message) => {
    expect(() => parse(raw)).toThrow(message);
    expect(() => parse(raw)).toThrow(/^--scenario f\.json: /);
  });

  it('reads a file, and names the file when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-scenario-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ scenario: 'omnichannel', stores: 3, warehouses: 1, skus: 50 }));
      const source = openScenario({ scenario: good, skus: 1000, idPrefix: 'p', releaseLag: 10 });
      expect(source.name).toBe('omnichannel');
      expect(source.setup()[0]).toHaveLength(4);
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"scenario":');
      expect(() => readScenarioFile(broken, 1000)).toThrow(/broken\.json: not one of stock, omnichannel, service nor a readable JSON file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('omnichannel against a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('every event is answered, errors only of the expected codes, kiosks, associates and shoppers receive pushes', async () => {
    // Follow-up lag: rate + batch × connections = 600 events (test/loadgen-harness.ts).
    const { options: o, minted } = shortRun(server, { durationS: 2.5, rate: 400, subscribers: 10, skus: 40, scenario: 'omnichannel' });
    const { report, perClient } = await runLoadgen(o, () => undefined);
    expect(report.sent).toBe(1000);
    expect(report.sent).toBe(report.acked + report.errors);
    expect(report.failedRequests).toBe(0);
    // What a real retailer's load meets: a hold or order the stock could not cover, and then its follow-up.
    for (const c of Object.keys(report.errorCodes)) expect(['insufficient_stock', 'unknown_reservation', 'unknown_order']).toContain(c);
    expect(report.acked).toBeGreaterThan(980);
    expect(report.subscriberErrors).toBe(0);
    expect(perClient).toHaveLength(10);
    expect(report.received).toBeGreaterThan(0);
    // 5 kiosks + 2 associates + 2 shoppers + 1 member on its recommendations, every subscription
    // answered with its snapshot (kiosk, associate and customer tokens accepted). Every name
    // carries the run's prefix. Then the customers following their orders get their tokens.
    const plans = openScenario({ scenario: 'omnichannel', skus: 40, idPrefix: report.idPrefix, releaseLag: 0 }).subscribers(10);
    expect(plans.filter((p) => p.as.role === 'kiosk')).toHaveLength(5);
    expect(plans.filter((p) => p.as.role === 'associate')).toHaveLength(2);
    const planned = plans.flatMap((p): Array<{ role: string; sub: string; loc?: string }> => {
      if (p.as.role === 'kiosk') return [{ role: 'kiosk', sub: p.as.kiosk, loc: p.as.store }];
      if (p.as.role === 'associate') return [{ role: 'associate', sub: p.as.staff, loc: p.as.store }];
      return p.as.role === 'customer' ? [{ role: 'customer', sub: p.as.customer, loc: undefined }] : [];
    });
    expect(minted.slice(0, planned.length)).toEqual(planned);
    expect(planned.filter((m) => m.role === 'customer')).toHaveLength(1);
    for (const m of minted.slice(planned.length)) expect(m).toEqual({ role: 'customer', sub: expect.stringMatching(new RegExp(`^${report.idPrefix}-cust-\\d+$`)), loc: undefined });
    // The run's 1000 events (same settings, same lag) include follow-ups, so those met the server too.
    const sent = take(new OmnichannelScenario(omnichannelDefaults(40), 'x', 600), 1000);
    expect(sent.filter((e) => ['stock.commit', 'stock.release', 'order.ready', 'order.shipped', 'order.cancelled'].includes(e.type)).length).toBeGreaterThan(50);
    expect(report.snapshots).toBeGreaterThanOrEqual(plans.reduce((s, p) => s + p.topics.length, 0));
    const kioskTopic = plans.find((p) => p.as.role === 'kiosk')!.topics[1];
    const [sku, store] = kioskTopic.slice('stock/'.length).split('@');
    const stock = await getJson(server.url, `/v1/stock/${sku}`);
    expect(stock.status).toBe(200);
    expect(stock.body.locations[store]).toBeDefined();
  });
});
