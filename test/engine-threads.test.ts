// Several engine threads sharing the partitions (ThreadedEngine, `--workers 2`) against the engine
// in this thread: random traffic over all three domains gets the same answers, the same final
// state key by key, the same state topics and the same event-topic messages.
//
// The traffic is sent in waves, each after the one before is answered and every derived event it
// caused is applied (idle), as a client that needs an order across keys sends it. Within a wave
// the partitions' orders interleave freely on several threads, so a wave holds events whose
// outcome cannot depend on that: stock moves (each ordered by its SKU), or one reservation or
// order (a saga across partitions), or activity of one subject (its customer's partition, and the
// items' halves in the order it sent them), or identity events (one partition; one link at most,
// as two links' moves of one customer's state may cross), or the service domain's (one
// partition), or an earlier wave again (its duplicates). What then differs is only what the wall
// clock makes (hold expiries, service deadlines, how long a request waited): such values are
// compared as "a time".

import fc from 'fast-check';
import { open } from 'lmdb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openThreadedEngine, type DomainOptions, type EventResult, type Output } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { FC_SEED } from './service-harness.ts';
import { engineThreadFile } from './bundle-harness.ts';

// Engine threads start from engine-thread.ts bundled once (engine-thread-link.ts reads
// OMNI_ENGINE_THREAD_FILE), not compiled through tsx in each thread again.
beforeAll(async () => {
  process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
});

const root = mkdtempSync(join(tmpdir(), 'omni-engine-threads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, String(++dirs));

const DOMAINS: DomainOptions = { service: { offerTimeoutMs: 3_600_000, slaMs: 7_200_000, graceMs: 3_600_000 } };
const SKUS = ['A', 'B', 'C', 'D', 'E', 'F'];
const LOCS = ['S1', 'S2', 'W1'];
const IDS = ['c1', 'c2', 'phone:+1', 'email:a@x', 'device:d1', 'device:d2'];
const BASE_TS = Date.UTC(2026, 0, 1);

type Ev = Record<string, unknown>;
const sku = fc.constantFrom(...SKUS);
const location = fc.constantFrom(...LOCS);
const qty = fc.integer({ min: 1, max: 9 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const reservation = fc.constantFrom('r1', 'r2', 'r3', 'r4');
const order = fc.constantFrom('o1', 'o2', 'o3');
const subject = fc.constantFrom(...IDS);

const stockMove: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ type: fc.constant('stock.received'), sku, location, qty }),
  fc.record({ type: fc.constant('stock.sold'), sku, location, qty }),
  fc.record({ type: fc.constant('stock.adjusted'), sku, location, onHand: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ type: fc.constant('stock.safety'), sku, location, safety: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ type: fc.constant('stock.transfer'), transfer: fc.constantFrom('t1', 't2'), sku, from: location, to: location, qty }),
);
const line = fc.record({ sku, qty: fc.integer({ min: 1, max: 5 }) });
const saga: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ type: fc.constant('stock.reserve'), reservation, sku, qty, location: maybe(location), ttlMs: fc.constant(3_600_000) }),
  fc.record({ type: fc.constantFrom('stock.release', 'stock.commit'), reservation }),
  fc.record({ type: fc.constant('order.placed'), order, customer: maybe(subject), lines: fc.array(line, { minLength: 1, maxLength: 4 }), pickup: fc.constantFrom('S1', 'S2') }),
  fc.record({ type: fc.constant('order.placed'), order, lines: fc.array(line, { minLength: 1, maxLength: 4 }), ship: fc.record({ lat: fc.double({ min: 45, max: 55, noNaN: true }), lon: fc.double({ min: 5, max: 15, noNaN: true }) }) }),
  fc.record({ type: fc.constantFrom('order.fulfilled', 'order.cancelled'), order }),
);
const activity = fc.record({ type: fc.constantFrom('activity.viewed', 'activity.carted', 'activity.purchased'), sku, channel: fc.constantFrom('web', 'app'), location: maybe(location) });
const link = fc.record({ type: fc.constant('identity.linked'), ids: fc.uniqueArray(subject, { minLength: 1, maxLength: 3 }), customer: maybe(fc.constantFrom('c1', 'c2', 'c3')) });
const profile = fc.record({ type: fc.constant('customer.profile'), customer: subject, tier: fc.constantFrom('standard', 'vip') });
const customerEvents: fc.Arbitrary<Ev[]> = fc.oneof(
  fc.tuple(subject, fc.array(activity, { minLength: 1, maxLength: 8 })).map(([who, list]) => list.map((e) => ({ ...e, subject: who }))),
  fc.tuple(fc.array(profile, { maxLength: 3 }), maybe(link), fc.array(profile, { maxLength: 3 })).map(([before, l, after]) => [...before, ...(l ? [l] : []), ...after]),
);
const serviceEvent: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ type: fc.constant('agent.status'), agent: fc.constantFrom('a1', 'a2'), status: fc.constantFrom('available', 'away') }),
  fc.record({ type: fc.constant('service.requested'), request: fc.constantFrom('q1', 'q2', 'q3'), subject, channel: fc.constantFrom('chat', 'voice'), topic: fc.constant('billing') }),
  fc.record({ type: fc.constantFrom('service.accepted', 'service.declined'), request: fc.constantFrom('q1', 'q2', 'q3'), agent: fc.constantFrom('a1', 'a2') }),
  fc.record({ type: fc.constant('service.completed'), request: fc.constantFrom('q1', 'q2', 'q3') }),
);

type Wave = { kind: 'events'; events: Ev[] } | { kind: 'again'; pick: number };
const wave: fc.Arbitrary<Wave> = fc.oneof(
  { weight: 4, arbitrary: fc.array(stockMove, { minLength: 1, maxLength: 12 }).map((events) => ({ kind: 'events' as const, events })) },
  { weight: 4, arbitrary: saga.map((e) => ({ kind: 'events' as const, events: [e] })) },
  { weight: 3, arbitrary: customerEvents.filter((events) => events.length > 0).map((events) => ({ kind: 'events' as const, events })) },
  { weight: 2, arbitrary: fc.array(serviceEvent, { minLength: 1, maxLength: 6 }).map((events) => ({ kind: 'events' as const, events })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'again' as const, pick })) },
);

const setup = (prefix: string): Ev[] =>
  [
    ...LOCS.map((l, i) => ({ type: 'location.upserted', location: l, kind: i < 2 ? 'store' : 'warehouse', lat: 50 + i, lon: 10 + i })),
    ...['a1', 'a2'].map((a) => ({ type: 'agent.online', agent: a, skills: { billing: 5 }, capacity: { chat: 1, voice: 1 } })),
  ].map((e, i) => ({ id: `${prefix}setup-${i}`, ts: BASE_TS, ...e }));
const stock = (prefix: string): Ev[] =>
  SKUS.flatMap((s) => LOCS.map((l) => ({ type: 'stock.received', sku: s, location: l, qty: 8 }))).map((e, i) => ({ id: `${prefix}stock-${i}`, ts: BASE_TS, ...e }));

/**
 * Values the wall clock made read "a time": the engines' clocks differ. They are times (now + a
 * ttl or a deadline) and the service queues' ranks, which count from the time a request came;
 * every such number is past 10^12, and nothing else the traffic makes comes near it.
 */
function timeless(value: unknown): unknown {
  if (typeof value === 'number' && value >= 1e12) return 'a time';
  if (Array.isArray(value)) return value.map(timeless);
  // How long a request has waited, by the clock of the engine that rendered it.
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'longestWaitMs' ? 'a wait' : timeless(v)]));
  return value;
}

/** Every key of a closed data dir's state and timers, but what each engine thread keeps for itself. */
async function dump(path: string): Promise<Map<string, unknown>> {
  const env = open({ path, maxDbs: 64, noSubdir: false, readOnly: true });
  try {
    const all = new Map<string, unknown>();
    for (const name of ['state', 'timers', 'outbox']) {
      for (const { key, value } of env.openDB<unknown, string>({ name }).getRange()) {
        // The epoch is random per dir; the dedup clocks and count are per engine thread.
        if (key === '$epoch' || key.startsWith('$dedup')) continue;
        all.set(`${name}:${key}`, timeless(value));
      }
    }
    return all;
  } finally {
    await env.close();
  }
}

/** Each topic's messages: state topics by their last data, event topics by every message's data. */
function byTopic(outputs: Output[], stateTopic: (t: string) => boolean): Map<string, unknown> {
  const topics = new Map<string, unknown[]>();
  for (const o of outputs) {
    const list = topics.get(o.topic) ?? [];
    list.push(timeless(o.data));
    topics.set(o.topic, list);
  }
  // Messages of one wave raised on several partitions reach an event topic in either order.
  return new Map([...topics].map(([t, list]) => [t, stateTopic(t) ? list.at(-1) : list.map((d) => JSON.stringify(d)).sort()]));
}

describe('several engine threads against the engine in this thread', () => {
  it('give the same answers, final state, topics and messages for random traffic sent in waves', async () => {
    const threadedDir = freshDir();
    const localDir = freshDir();
    const threaded = await openThreadedEngine({ path: threadedDir, domains: DOMAINS, durability: 'none', autoTimers: false, threads: 2 });
    const local = await openEngine({ path: localDir, processors: defaultProcessors(DOMAINS), durability: 'none', autoTimers: false });
    expect(threaded.layout().workers.map((w) => w.partitions.length)).toEqual([16, 16]);
    const out = { threaded: [] as Output[], local: [] as Output[] };
    threaded.setInterest(undefined);
    threaded.onOutput((o) => out.threaded.push(...o));
    local.onOutput((o) => out.local.push(...o));
    let runs = 0;
    const outcomes = new Set<string>();
    const send = async (events: unknown[]) => {
      const [a, b] = [await threaded.submit(events), await local.submit(events)];
      await Promise.all([threaded.idle(), local.idle()]);
      expect(timeless(a), JSON.stringify(events)).toEqual(timeless(b));
      for (const r of a as EventResult[]) outcomes.add(r.ok ? (r.duplicate ? 'duplicate' : 'ok') : r.error.code);
    };
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(wave, { minLength: 5, maxLength: 25 }), async (waves) => {
          const prefix = `r${++runs}-`;
          await send(setup(prefix));
          await send(stock(prefix));
          const sent: Ev[][] = [];
          for (const [k, w] of waves.entries()) {
            let events: Ev[];
            if (w.kind === 'again') {
              if (sent.length === 0) continue;
              events = sent[w.pick % sent.length];
            } else {
              events = w.events.map((e, i) => ({ ...e, id: `${prefix}w${k}-${i}`, ts: BASE_TS + k * 60_000 }));
              sent.push(events);
            }
            await send(events);
          }
        }),
        { numRuns: 40, seed: FC_SEED, endOnFailure: true },
      );
      await threaded.idle();
      await local.idle();
      const state = (t: string) => t.startsWith('stock/') || t.startsWith('recs/');
      expect(byTopic(out.threaded, state)).toEqual(byTopic(out.local, state));
      await local.close();
      const localState = await dump(localDir);
      for (const [key, value] of localState) {
        if (key.startsWith('state:')) expect(timeless(threaded.read(key.slice('state:'.length))), key).toEqual(value);
      }
      await threaded.close();
      expect(await dump(threadedDir)).toEqual(localState);
      // The traffic reached what it is about: sagas refused and done, duplicates, each domain.
      expect([...outcomes]).toEqual(expect.arrayContaining(['ok', 'duplicate', 'insufficient_stock', 'unknown_reservation']));
      console.log(`engine threads property: ${runs} runs, ${localState.size} keys compared; answers: ${[...outcomes].sort().join(' ')}`);
    } finally {
      await Promise.all([local.close(), threaded.close()]);
    }
  });
});

describe('a request whose later events read what an earlier one wrote, on two engine threads', () => {
  it('applies a location, an identity link or a profile before the events of other keys after it', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: DOMAINS, durability: 'none', autoTimers: false, threads: 2 });
    try {
      // Every SKU's partition reads the location; the service domain reads the link and the tier.
      const answers = await engine.submit([
        { id: 'l1', type: 'location.upserted', location: 'N1', kind: 'store', lat: 50, lon: 10 },
        ...SKUS.map((sku, i) => ({ id: `n${i}`, type: 'stock.received', sku, location: 'N1', qty: 3 })),
        { id: 'a1', type: 'agent.online', agent: 'n-agent', skills: { billing: 5 }, capacity: { chat: 1, voice: 1 } },
        { id: 'i1', type: 'identity.linked', ids: ['phone:+9', 'email:n@x'], customer: 'c9' },
        { id: 'p1', type: 'customer.profile', customer: 'c9', tier: 'vip' },
        { id: 's1', type: 'service.requested', request: 'nq1', subject: 'email:n@x', channel: 'chat', topic: 'billing' },
      ]);
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      for (const sku of SKUS) expect(engine.snapshot(`stock/${sku}`)?.data).toMatchObject({ locations: { N1: { onHand: 3 } } });
      // The request came in as the linked customer, with the tier the same request gave it.
      expect(engine.read('svc/req/nq1')).toMatchObject({ customer: 'c9', subject: 'email:n@x', vip: true });
    } finally {
      await engine.close();
    }
  });

  it('applies the events of other keys before a link before it, though the link is on another thread', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: DOMAINS, durability: 'none', autoTimers: false, threads: 2 });
    try {
      // Devices on the thread the identity partition is not on: nothing but the cut orders them.
      const identityThread = partitionOf('customers/identity', 32) % 2;
      const devices = Array.from({ length: 200 }, (_, i) => `device:d${i}`).filter((d) => partitionOf(d, 32) % 2 !== identityThread).slice(0, 40);
      const answers = await engine.submit(
        devices.flatMap((d, i) => [
          { id: `v${i}`, type: 'activity.viewed', subject: d, channel: 'web', sku: 'S1', ts: BASE_TS },
          { id: `k${i}`, type: 'identity.linked', ids: [d], customer: `cust-${i}` },
        ]),
      );
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      // Sent before its link, each view is the device's own, as one thread would have it.
      expect(answers.filter((_, i) => i % 2 === 0).map((a) => (a as { customer?: string }).customer)).toEqual(devices);
    } finally {
      await engine.close();
    }
  });
});


describe('requests sent one after another without waiting, on two engine threads', () => {
  it('keep each key in the order they came, also when one of them is cut to let a location go first', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: DOMAINS, durability: 'none', autoTimers: false, threads: 2 });
    try {
      await engine.submit([{ id: 'l0', type: 'location.upserted', location: 'L0', kind: 'store', lat: 50, lon: 10 }]);
      // The first is cut (the location, then the rest); the second must still come after its rest.
      const first = engine.submit([
        { id: 'l1', type: 'location.upserted', location: 'L1', kind: 'store', lat: 51, lon: 11 },
        { id: 'x5', type: 'stock.adjusted', sku: 'X', location: 'L0', onHand: 5 },
      ]);
      const second = engine.submit([{ id: 'x7', type: 'stock.adjusted', sku: 'X', location: 'L0', onHand: 7 }]);
      expect([...(await first), ...(await second)].every((r) => r.ok)).toBe(true);
      expect(engine.snapshot('stock/X')?.data).toMatchObject({ locations: { L0: { onHand: 7 } } });
    } finally {
      await engine.close();
    }
  });
});

describe('timers stored before timers kept their partition', () => {
  it('are loaded by the engine thread of the partition their processor names for them', async () => {
    const path = freshDir();
    const first = await openEngine({ path, processors: defaultProcessors(DOMAINS) });
    await first.close();
    // A hold's expiry as an older version stored it: no partition of its own.
    const env = open({ path, maxDbs: 64, noSubdir: false });
    await env.openDB({ name: 'timers' }).put('stock/res/old-R', { at: Date.now() + 3_600_000, processor: 'stock', id: 'res/old-R', data: { reservation: 'old-R' } });
    await env.close();
    // Its reservation's partition is odd: not the one such timers went to before (partition 0).
    const owner = partitionOf('old-R', 32) % 2;
    expect(owner).toBe(1);
    for (const slot of [0, 1]) {
      const engine = await openEngine({ path, processors: defaultProcessors(DOMAINS), share: { slot, slots: 2 }, dataDirHeldByHost: true, autoTimers: false });
      try {
        expect(engine.stats().pendingTimers, `engine thread ${slot}`).toBe(slot === owner ? 1 : 0);
      } finally {
        await engine.close();
      }
    }
  });
});

describe('dedup answers of an engine thread that no longer runs', () => {
  it('expire two retention periods after its last rotation, as its own would', async () => {
    const path = freshDir();
    const clock = { t: 1_800_000_000_000, now() { return this.t; } };
    const opts = { path, processors: defaultProcessors(DOMAINS), dedupRetentionMs: 1000, clock, autoTimers: false };
    const place = { id: 'dl', type: 'location.upserted', location: 'D1', kind: 'store', lat: 1, lon: 1 };
    // The first of two engine threads records the dir; the second keeps an answer.
    const first = await openEngine({ ...opts, share: { slot: 0, slots: 2 }, dataDirHeldByHost: true });
    await first.close();
    const second = await openEngine({ ...opts, share: { slot: 1, slots: 2 }, dataDirHeldByHost: true });
    await second.submit([place]);
    await second.close();
    // Then one thread: the answer is recognised within the retention, and forgotten after two.
    const one = await openEngine(opts);
    try {
      expect((await one.submit([place]))[0].duplicate).toBe(true);
      // This thread keeps rotating its own generations meanwhile (a batch after each period).
      for (let i = 0; i < 3; i++) {
        clock.t += 1000;
        await one.submit([{ ...place, id: `tick-${i}` }]);
      }
      expect((await one.submit([place]))[0]).toEqual({ id: 'dl', ok: true });
    } finally {
      await one.close();
    }
  });
});
