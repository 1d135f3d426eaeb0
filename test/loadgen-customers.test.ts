// The omnichannel scenario's customer role: shoppers' visits as activity, sign-ins that link
// identities and kiosks identifying members. Every event it makes has a shape the engine's own
// processors accept, and the engine applies all of them; the shares follow the settings; the
// stream is deterministic by seed; members in the app watch their recs/<customer> and kiosks
// their kiosk/<kiosk> with their own tokens; and a short real run has every event acked and
// the kiosk screens' pushes received and counted.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProcessors, readEvent, type InputEvent, type Processor } from '../engine/mod.ts';
import type { LoadgenOptions } from '../loadgen/options.ts';
import { runLoadgen, subscriberTokens, subscriberTopics } from '../loadgen/run.ts';
import { parseScenarioFile, type EventSource } from '../loadgen/scenario.ts';
import { Catalogue } from '../loadgen/scenarios/catalogue.ts';
import { CUSTOMER_SHARES, MEAN_ACTIVITIES } from '../loadgen/scenarios/customers.ts';
import { OmnichannelScenario } from '../loadgen/scenarios/omnichannel.ts';
import { omnichannelDefaults } from '../loadgen/scenarios/omnichannel-config.ts';
import type { OmnichannelConfig } from '../loadgen/scenarios/types.ts';
import { MEMBER_SHARE } from '../loadgen/scenarios/shoppers.ts';
import { kioskId } from '../loadgen/scenarios/watchers.ts';
import { getJson, startTestServer, type TestServer } from './gateway-harness.ts';
import { shortRun } from './loadgen-harness.ts';
import { PureRunner } from './pure-harness.ts';

const LAG = 400;
const config = (over: Partial<OmnichannelConfig> = {}): OmnichannelConfig => ({ ...omnichannelDefaults(300), ...over });
const omni = (over: Partial<OmnichannelConfig> = {}, prefix = 'run', lag = LAG) => new OmnichannelScenario(config(over), prefix, lag);
/** Only the customer role: every event is one of its. */
const browsing = (over: Partial<OmnichannelConfig> = {}) => omni({ mix: { customer: 1 }, ...over });
const take = (source: EventSource, n: number) => Array.from({ length: n }, () => source.next());
const tally = (events: InputEvent[], key: (e: InputEvent) => string | undefined) => {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const k = key(e);
    if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
};

const CUSTOMER_TYPES = ['activity.viewed', 'activity.carted', 'activity.purchased', 'identity.linked', 'kiosk.identified'];
const CUSTOMER_ID = /^run-cu(\d+)$/;
const DEVICE_ID = /^device:run-d(\d+)$/;
const PHONE_ID = /^phone:\+49151(\d{8})-run$/;
const EMAIL_ID = /^email:run\.cu(\d+)@example\.com$/;
const CONTACT = new RegExp(`${PHONE_ID.source}|${EMAIL_ID.source}`);
const KIOSK_SUBJECT = new RegExp(`${CUSTOMER_ID.source}|${PHONE_ID.source}`);
const SUBJECT = new RegExp(`${CUSTOMER_ID.source}|${DEVICE_ID.source}|${PHONE_ID.source}`);
/** The shopper number behind any id the role uses. */
const shopperOf = (id: string) => Number((CUSTOMER_ID.exec(id) ?? DEVICE_ID.exec(id) ?? PHONE_ID.exec(id) ?? EMAIL_ID.exec(id))?.[1] ?? NaN);

describe('customer role: events', () => {
  it('is deterministic by seed, and its stream does not depend on the other roles\' weights', () => {
    expect(take(browsing(), 5000)).toEqual(take(browsing(), 5000));
    expect(browsing().setup()).toEqual(browsing().setup());
    expect(take(browsing({ seed: 7 }), 500)).not.toEqual(take(browsing(), 500));
    const own = (mix: Record<string, number>) =>
      take(omni({ mix }), 20_000)
        .filter((e) => CUSTOMER_TYPES.includes(e.type))
        .map(({ id: _id, ...rest }) => rest)
        .slice(0, 3000);
    expect(own({ customer: 1, counter: 3 })).toEqual(own({ customer: 2, counter: 1, warehouse: 1 }));
  });

  it('makes only events the engine\'s processors validate, and the engine applies every one', () => {
    const processors = defaultProcessors();
    const owner = (type: string): Processor => {
      const p = processors.find((q) => q.types.includes(type));
      if (p === undefined) throw new Error(`no processor takes ${type}`);
      return p;
    };
    const source = omni();
    const r = new PureRunner(processors);
    const setup = source.setup().flat();
    const profiles = setup.filter((e) => e.type === 'customer.profile');
    expect(Math.abs(profiles.length / 50_000 - MEMBER_SHARE)).toBeLessThan(0.02);
    for (const ev of setup) expect(r.apply(ev).result).toMatchObject({ ok: true });
    const codes: Record<string, number> = {};
    const events = take(source, 30_000);
    events.forEach((ev, n) => {
      expect(readEvent(owner, ev)).toEqual(ev);
      const result = r.apply({ ...ev, ts: 1_700_000_000_000 + n * 2 }).result;
      if (CUSTOMER_TYPES.includes(ev.type)) expect(result).toMatchObject({ ok: true });
      const c = result.ok ? 'ok' : result.error.code;
      codes[c] = (codes[c] ?? 0) + 1;
    });
    // The default mix: half of it browsing, all of it applied.
    const customers = events.filter((e) => CUSTOMER_TYPES.includes(e.type)).length;
    expect(Math.abs(customers / events.length - 0.5)).toBeLessThan(0.01);
    expect(codes.ok).toBeGreaterThan(events.length * 0.99);
    // One `recommendations` message per identification, to the kiosk it names, showing that store.
    const identified = events.filter((e) => e.type === 'kiosk.identified');
    const shown = r.messages.filter((m) => m.topic.startsWith('kiosk/'));
    expect(identified.length).toBeGreaterThan(50);
    expect(shown.length).toBeGreaterThanOrEqual(identified.length);
    for (const ev of identified) {
      expect(shown.some((m) => m.topic === `kiosk/${ev.kiosk}` && (m.data as { location: string }).location === ev.location)).toBe(true);
    }
  });

  it('views, carts and buys Zipf-popular SKUs across channels in the configured shares', () => {
    const events = take(browsing(), 100_000);
    const types = tally(events, (e) => e.type);
    expect(Object.keys(types).sort()).toEqual([...CUSTOMER_TYPES].sort());
    const activities = types['activity.viewed'] + types['activity.carted'] + types['activity.purchased'];
    const share = (n: number) => n / activities;
    expect(share(types['activity.viewed'])).toBeGreaterThan(0.78);
    expect(share(types['activity.viewed'])).toBeLessThan(0.9);
    expect(share(types['activity.carted'])).toBeGreaterThan(0.09);
    expect(share(types['activity.carted'])).toBeLessThan(0.17);
    expect(share(types['activity.purchased'])).toBeGreaterThan(0.015);
    expect(share(types['activity.purchased'])).toBeLessThan(types['activity.carted'] / activities / 2);

    // Non-members only browse the web; members split by CUSTOMER_SHARES.channel.
    const channels = tally(events, (e) => (e.type.startsWith('activity.') ? (e.channel as string) : undefined));
    const { web, app, store } = CUSTOMER_SHARES.channel;
    expect(Math.abs(share(channels.web) - (1 - MEMBER_SHARE + MEMBER_SHARE * web))).toBeLessThan(0.025);
    expect(Math.abs(share(channels.app) - MEMBER_SHARE * app)).toBeLessThan(0.025);
    expect(Math.abs(share(channels.store + channels.kiosk) - MEMBER_SHARE * store)).toBeLessThan(0.025);
    const { signInShare, kioskShare } = config();
    expect(Math.abs(channels.kiosk / (channels.store + channels.kiosk) - kioskShare)).toBeLessThan(0.06);

    // One link per signed-out member web visit that signs in, one identification per kiosk visit.
    const perActivity = (p: number) => p / MEAN_ACTIVITIES;
    const links = perActivity(MEMBER_SHARE * web * CUSTOMER_SHARES.signedOutWeb * signInShare);
    expect(Math.abs(share(types['identity.linked']) / links - 1)).toBeLessThan(0.2);
    const kiosks = perActivity(MEMBER_SHARE * store * kioskShare);
    expect(Math.abs(share(types['kiosk.identified']) / kiosks - 1)).toBeLessThan(0.2);

    // The catalogue's popularity: its top SKU takes about 1/H(300) of the views.
    const views = tally(events, (e) => (e.type === 'activity.viewed' ? (e.sku as string) : undefined));
    const top = Object.entries(views).sort((a, b) => b[1] - a[1])[0];
    expect(top[0]).toBe(new Catalogue(300, 42).popular(0));
    const harmonic = Array.from({ length: 300 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b);
    expect(Math.abs(top[1] / types['activity.viewed'] - 1 / harmonic)).toBeLessThan(0.02);
  });

  it('follows its settings: more sign-ins, no kiosks, no sign-ins', () => {
    const count = (over: Partial<OmnichannelConfig>, type: string) => take(browsing(over), 40_000).filter((e) => e.type === type).length;
    const links = count({ signInShare: 0.4 }, 'identity.linked');
    expect(count({ signInShare: 0.8 }, 'identity.linked') / links).toBeGreaterThan(1.6);
    expect(count({ signInShare: 0 }, 'identity.linked')).toBe(0);
    expect(count({ kioskShare: 0 }, 'kiosk.identified')).toBe(0);
    const noKiosks = take(browsing({ kiosksPerStore: 0 }), 20_000);
    expect(noKiosks.some((e) => e.type === 'kiosk.identified' || e.channel === 'kiosk')).toBe(false);
    expect(count({ kioskShare: 1 }, 'kiosk.identified')).toBeGreaterThan(2 * count({ kioskShare: 0.4 }, 'kiosk.identified'));
  });

  it('links a shopper\'s own device and contact to its customer id part-way through a visit; kiosks are the stores\' own', () => {
    const source = browsing({ kiosksPerStore: 3 });
    const members = new Set(source.setup().flat().filter((e) => e.type === 'customer.profile').map((e) => e.customer as string));
    const stores = new Set(source.setup()[0].filter((l) => l.kind === 'store').map((l) => l.location as string));
    const seen = new Set<string>();
    let linked = 0;
    let resumed = 0;
    const signedIn = new Set<string>();
    for (const ev of take(source, 20_000)) {
      if (ev.type === 'identity.linked') {
        const [device, contact] = ev.ids as string[];
        expect(ev.ids).toHaveLength(2);
        expect(device).toMatch(DEVICE_ID);
        expect(contact).toMatch(CONTACT);
        const k = shopperOf(device);
        expect(shopperOf(contact)).toBe(k);
        expect(ev.customer).toBe(`run-cu${k}`);
        expect(members.has(ev.customer as string)).toBe(true);
        // Part-way: the device browsed before it signed in.
        expect(seen.has(device)).toBe(true);
        signedIn.add(ev.customer as string);
        linked++;
      } else if (ev.type === 'kiosk.identified') {
        expect(stores.has(ev.location as string)).toBe(true);
        expect([1, 2, 3].map((j) => kioskId(ev.location as string, j))).toContain(ev.kiosk);
        expect(ev.subject).toMatch(KIOSK_SUBJECT);
        expect(members.has(`run-cu${shopperOf(ev.subject as string)}`)).toBe(true);
      } else {
        expect(ev.type).toMatch(/^activity\.(viewed|carted|purchased)$/);
        expect(ev.sku).toMatch(/^SKU-\d{6}$/);
        const subject = ev.subject as string;
        expect(subject).toMatch(SUBJECT);
        // Only members have an account to browse under.
        if (!DEVICE_ID.test(subject)) expect(members.has(`run-cu${shopperOf(subject)}`)).toBe(true);
        if (ev.channel === 'store' || ev.channel === 'kiosk') expect(stores.has(ev.location as string)).toBe(true);
        else {
          expect(['web', 'app']).toContain(ev.channel);
          expect(ev.location).toBeUndefined();
        }
        if (signedIn.has(subject)) resumed++;
        seen.add(subject);
      }
    }
    expect(linked).toBeGreaterThan(100);
    expect(resumed).toBeGreaterThan(0);
  });
});

describe('customer role: subscribers', () => {
  it('members in the app watch their own recs/<customer>, kiosks their kiosk/<kiosk> screen', () => {
    const source = omni();
    const members = new Set(source.setup().flat().filter((e) => e.type === 'customer.profile').map((e) => e.customer as string));
    const plans = source.subscribers(100);
    const kiosks = plans.filter((p) => p.as.role === 'kiosk');
    const app = plans.filter((p) => p.as.role === 'customer');
    expect(kiosks).toHaveLength(20);
    // 20% of the 80 storefront clients.
    expect(app).toHaveLength(16);
    // The regulars: the most frequent members, whose lists change while a run lasts.
    const regulars = [...members].sort((a, b) => shopperOf(a) - shopperOf(b)).slice(0, 16);
    expect(app.map((p) => (p.as.role === 'customer' ? p.as.customer : ''))).toEqual(regulars);
    for (const p of app) {
      if (p.as.role !== 'customer') continue;
      expect(members.has(p.as.customer)).toBe(true);
      expect(p.topics[0]).toBe(`recs/${p.as.customer}`);
      expect(p.topics.length).toBeGreaterThanOrEqual(2);
      for (const t of p.topics.slice(1)) expect(t).toMatch(/^stock\/SKU-\d{6}$/);
    }
    for (const p of kiosks) {
      if (p.as.role !== 'kiosk') continue;
      expect(p.topics[0]).toBe(`kiosk/${p.as.kiosk}`);
      expect(p.as.kiosk).toBe(kioskId(p.as.store, 1));
    }
    // Without browsing there is nobody to recommend to: no recs watchers, no profiles.
    const stockOnly = omni({ mix: { counter: 1 } });
    expect(stockOnly.subscribers(100).some((p) => p.as.role === 'customer')).toBe(false);
    expect(stockOnly.setup().flat().some((e) => e.type === 'customer.profile')).toBe(false);
  });

  it('members get customer tokens for their own id; without a secret kiosks and members keep only their stock topics', () => {
    const plans = omni({ recsShare: 0.5 }).subscribers(12);
    const minted: unknown[] = [];
    const warnings: string[] = [];
    const o = {
      subscriberToken: 'shopper-token',
      mintToken: (claims: { role: string; sub: string; loc?: string }) => {
        minted.push(claims);
        return `${claims.role}:${claims.sub}`;
      },
    } as Pick<LoadgenOptions, 'subscriberToken' | 'mintToken'>;
    const tokens = subscriberTokens(plans, o, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    plans.forEach((p, i) => {
      if (p.as.role === 'customer') expect(tokens[i]).toBe(`customer:${p.as.customer}`);
      else if (p.as.role === 'kiosk') expect(tokens[i]).toBe(`kiosk:${p.as.kiosk}`);
      else if (p.as.role === 'associate') expect(tokens[i]).toBe(`associate:${p.as.staff}`);
      else expect(tokens[i]).toBe('shopper-token');
    });
    expect(plans.filter((p) => p.as.role === 'customer')).toHaveLength(3);
    expect(subscriberTopics(plans, { mintToken: o.mintToken, topicsPerSubscriber: undefined })).toEqual(plans.map((p) => p.topics));
    expect(subscriberTopics(plans, { mintToken: o.mintToken, topicsPerSubscriber: 1 })).toEqual(plans.map((p) => [p.topics[0]]));

    const anonymous = subscriberTokens(plans, { subscriberToken: undefined, mintToken: undefined }, (w) => warnings.push(w));
    expect(anonymous.every((t) => t === undefined)).toBe(true);
    expect(warnings[0]).toMatch(/kiosk tokens or customer tokens/);
    const readable = subscriberTopics(plans, { mintToken: undefined, topicsPerSubscriber: undefined });
    plans.forEach((p, i) => {
      expect(readable[i]).toEqual(p.topics.filter((t) => t.startsWith('stock/')));
      expect(readable[i].length).toBeGreaterThan(0);
    });
  });
});

describe('customer role: scenario files', () => {
  const parse = (raw: unknown) => parseScenarioFile(raw, 'f.json', 1000);

  it('takes the customer role and its settings; customer chat is the service scenario', () => {
    expect(parse({ scenario: 'omnichannel', mix: { customer: 5, counter: 1 }, shoppers: 200, signInShare: 0.9, kioskShare: 1, recsShare: 0 })).toEqual({
      kind: 'omnichannel',
      config: { ...omnichannelDefaults(1000), mix: { customer: 5, counter: 1 }, shoppers: 200, signInShare: 0.9, kioskShare: 1, recsShare: 0 },
    });
    expect(() => parse({ scenario: 'omnichannel', mix: { chat: 1 } })).toThrow(/role "chat" is not available yet: .*--scenario service/);
    expect(() => parse({ scenario: 'omnichannel', signInShare: 1.5 })).toThrow(/"signInShare" must be a number from 0 to 1/);
    expect(() => parse({ scenario: 'omnichannel', shoppers: 0 })).toThrow(/"shoppers" must be an integer from 1 to 1000000/);
  });
});

describe('customer role against a real server', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'omni-customers-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every event is acked; kiosks receive their screens and members their recommendations, counted with the rest', async () => {
    // Few stores and shoppers, so that each kiosk and each watched member is busy in a short run;
    // counters and warehouses only receive or sell, so nothing may be refused.
    const settings = { scenario: 'omnichannel', mix: { customer: 6, counter: 2, warehouse: 1 }, skus: 40, stores: 3, warehouses: 1, shoppers: 40, recsShare: 0.5, kioskShare: 0.6 };
    const file = join(dir, 'customers.json');
    writeFileSync(file, JSON.stringify(settings));
    const { options: o, minted } = shortRun(server, { durationS: 2, rate: 400, subscribers: 8, skus: 1000, scenario: file });
    const { report, perClient } = await runLoadgen(o, () => undefined);
    expect(report.sent).toBe(800);
    expect(report.acked).toBe(800);
    expect(report.errors).toBe(0);
    expect(report.failedRequests).toBe(0);
    expect(report.subscriberErrors).toBe(0);
    expect(report.seqErrors).toBe(0);

    // The same settings (another prefix, the run's lag) make the run's stream and subscribers.
    const parsed = parseScenarioFile(settings, 'f', 1000);
    if (parsed.kind !== 'omnichannel') throw new Error('not omnichannel');
    const twin = new OmnichannelScenario(parsed.config, 'x', 400 + 50 * 4);
    const plans = twin.subscribers(8);
    const sent = take(twin, 800);
    expect(plans.filter((p) => p.as.role === 'kiosk')).toHaveLength(3);
    const app = plans.flatMap((p) => (p.as.role === 'customer' ? [p.as.customer] : []));
    expect(app).toHaveLength(3);
    expect(minted.map((m) => m.role).sort()).toEqual(['customer', 'customer', 'customer', 'kiosk', 'kiosk', 'kiosk']);
    expect(report.snapshots).toBeGreaterThanOrEqual(plans.reduce((s, p) => s + p.topics.length, 0));

    // Every identification pushes one screen to its kiosk, and all three kiosks are watched.
    const identified = sent.filter((e) => e.type === 'kiosk.identified').length;
    expect(identified).toBeGreaterThan(5);
    expect(report.receivedByFamily.kiosk).toBeGreaterThanOrEqual(identified);
    // The watched members browse in the run (recs/* is a state topic: updates may be conflated).
    expect(sent.some((e) => e.type.startsWith('activity.') && app.includes(e.subject as string))).toBe(true);
    expect(report.receivedByFamily.recs).toBeGreaterThan(0);
    expect(report.receivedByFamily.stock).toBeGreaterThan(0);
    const families = Object.values(report.receivedByFamily).reduce((a, b) => a + b, 0);
    expect(families).toBe(report.received);
    expect(perClient.reduce((a, b) => a + b, 0)).toBe(report.received);
    expect(report.latencyMs.push.count).toBe(report.received);

    // The engine learned from the run: a watched member has recommendations over HTTP.
    const member = minted.find((m) => m.role === 'customer')!.sub;
    const recs = await getJson(server.url, `/v1/customers/${encodeURIComponent(member)}/recommendations`, { authorization: `Bearer ${server.token('admin', 'ops')}` });
    expect(recs.status).toBe(200);
    expect(recs.body.customer).toBe(member);
    expect(recs.body.items.length).toBeGreaterThan(0);
  });
});
