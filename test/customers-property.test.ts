// Properties of the customer domain under random traffic on a pure view: links (with shared,
// blocked and hostile ids), activity, profiles, kiosk identifications, stock that sells out,
// orders and service requests, in random order and times. After every step: every known id
// resolves to a live customer that lists it, a customer's ids resolve back to it, no customer
// holds more ids of a kind than its limit, kiosk indexes agree with the screens, a customer's
// session and orders are kept only under the name it goes by, no link waits, and a refused event
// changed nothing; after an erasure none of the customer's ids resolves or keeps anything. Nothing
// throws. And every step writes only keys its own partition owns.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { customerProcessor, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { DEFAULT_LIMITS, idKind, isTombstone, type IdRecord, type StoredCustomer } from '../engine/customers/identity/mod.ts';
import type { KioskDisplay } from '../engine/customers/types.ts';
import { ownerOfKey } from '../engine/customers/partitioning.ts';
import { customerRecord, resolveCustomer } from '../engine/customers/identity/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import type { AppliedStep } from '../engine/pure-runner.ts';
import { PureRunner } from './pure-harness.ts';
import { FC_SEED } from './service-harness.ts';

const IDS = ['c1', 'c2', 'c3', 'phone:+1', 'phone:+2', 'phone:+3', 'email:a@x', 'email:b@x', 'wechat:w1', 'device:tablet', 'device:d2', 'null', 'device:0', '__proto__', 'phone:constructor'];
const SKUS = ['A', 'B', 'C', 'D'];
const STORES = ['S1', 'S2'];

const op = fc.oneof(
  fc.record({ type: fc.constant('identity.linked'), ids: fc.uniqueArray(fc.constantFrom(...IDS), { minLength: 1, maxLength: 4 }), customer: fc.option(fc.constantFrom('c1', 'c2', 'c4'), { nil: undefined }) }),
  fc.record({ type: fc.constantFrom('activity.viewed', 'activity.carted', 'activity.purchased'), subject: fc.constantFrom(...IDS), sku: fc.constantFrom(...SKUS), channel: fc.constant('web'), gapMin: fc.integer({ min: 0, max: 45 }) }),
  fc.record({ type: fc.constant('customer.profile'), customer: fc.constantFrom(...IDS), tier: fc.constantFrom('standard', 'vip', 'gold') }),
  fc.record({ type: fc.constant('kiosk.identified'), kiosk: fc.constantFrom('k1', 'k2'), location: fc.constantFrom(...STORES, 'S9'), subject: fc.constantFrom(...IDS) }),
  fc.record({ type: fc.constantFrom('stock.received', 'stock.sold'), sku: fc.constantFrom(...SKUS), location: fc.constantFrom(...STORES), qty: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ type: fc.constant('order.placed'), order: fc.uuid(), customer: fc.constantFrom(...IDS), lines: fc.constant([{ sku: 'A', qty: 1 }]), pickup: fc.constantFrom(...STORES) }),
  fc.record({ type: fc.constant('service.requested'), request: fc.uuid(), subject: fc.constantFrom(...IDS), channel: fc.constant('chat'), topic: fc.constant('billing') }),
  fc.record({ type: fc.constant('customer.erased'), customer: fc.constantFrom(...IDS) }),
);

/** After an erasure: none of the customer's ids resolves, and none keeps a session, orders or a forwarding address. */
function erasureLeftovers(r: PureRunner, ids: readonly string[]): string[] {
  const kept = ids.flatMap((id) => [`id/x/${id}`, `id/c/${id}`, `id/log/${id}`, `cu/sess/${id}`, `cu/orders/${id}`, `cu/moved/${id}`, `cu/kiosksof/${id}`, `svc/cust/${id}`]);
  return kept.filter((key) => r.state.has(key)).map((key) => `${key} outlived the erasure of ${ids.join(', ')}`);
}

function problems(r: PureRunner): string[] {
  const out: string[] = [];
  const customers = new Map<string, StoredCustomer>();
  for (const [key, value] of r.state) if (key.startsWith('id/c/')) customers.set(key.slice('id/c/'.length), value as StoredCustomer);
  for (const [key, value] of r.state) {
    if (!key.startsWith('id/x/')) continue;
    const id = key.slice('id/x/'.length);
    const c = customers.get((value as IdRecord).customer);
    if (!c || isTombstone(c)) out.push(`${id} resolves to a dead customer ${(value as IdRecord).customer}`);
    else if (!c.ids.includes(id)) out.push(`${id} is not listed by its customer ${c.name}`);
  }
  for (const [name, c] of customers) {
    if (isTombstone(c)) {
      const to = customers.get(c.mergedInto);
      if (!to || isTombstone(to)) out.push(`tombstone ${name} points at ${c.mergedInto}, not a live customer`);
      continue;
    }
    const perKind = new Map<string, number>();
    for (const id of c.ids) {
      const rec = r.state.get(`id/x/${id}`) as IdRecord | undefined;
      if (rec?.customer !== name) out.push(`${name} lists ${id}, which resolves to ${rec?.customer}`);
      const kind = idKind(id);
      perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
    }
    for (const [kind, n] of perKind) {
      const limit = (DEFAULT_LIMITS as Record<string, number>)[kind] ?? (DEFAULT_LIMITS as Record<string, number>)['*'];
      if (limit !== undefined && n > limit) out.push(`${name} holds ${n} ${kind} ids (limit ${limit})`);
    }
  }
  for (const [key, value] of r.state) {
    if (!key.startsWith('cu/shown/')) continue;
    const at = key.slice('cu/shown/'.length);
    for (const kiosk of value as string[]) {
      const d = r.state.get(`cu/kiosk/${kiosk}`) as KioskDisplay | undefined;
      if (!d || !d.items.some((i) => `${i.sku}@${d.location}` === at)) out.push(`${key} lists ${kiosk}, whose screen does not show it`);
    }
    const split = at.lastIndexOf('@');
    const stores = r.state.get(`cu/shownat/${at.slice(0, split)}`) as string[] | undefined;
    if (!stores?.includes(at.slice(split + 1))) out.push(`${key} has kiosks but cu/shownat does not name its store`);
  }
  for (const [key] of r.state) {
    const name = ['cu/sess/', 'cu/orders/'].find((p) => key.startsWith(p));
    if (name !== undefined) {
      const own = key.slice(name.length);
      const as = resolveCustomer(r.view, own);
      if (as !== undefined && as !== own) out.push(`${key} is kept under a name that goes by ${as} now`);
    }
    if (key.startsWith('id/wait/')) out.push(`${key}: a link still waits for its moves`);
    if (['id/erase/', 'id/busy/', 'id/erasewait/'].some((p) => key.startsWith(p))) out.push(`${key}: an erasure or a link is left under way`);
  }
  for (const [key, value] of r.state) {
    if (!key.startsWith('cu/shownat/')) continue;
    const sku = key.slice('cu/shownat/'.length);
    for (const store of value as string[]) if (!r.state.has(`cu/shown/${sku}@${store}`)) out.push(`${key} names ${store}, where no kiosk shows it`);
  }
  return out;
}

const partition = (key: string) => partitionOf(key, 32);

/**
 * Writes of customer state, `recs/` topics changed and kiosk messages, each by a step on another
 * partition than the one owning it: with partitions on several threads, two partitions writing one
 * key (or advancing one topic's seq) would lose updates.
 */
function trespasses(steps: AppliedStep[]): string[] {
  const out: string[] = [];
  for (const s of steps) {
    const what = `${s.event?.type ?? s.kind} at '${s.key}'`;
    for (const [key] of s.effects.writes ?? []) {
      const owner = ownerOfKey(key);
      if (owner !== undefined && partition(owner) !== partition(s.key)) out.push(`${what} wrote ${key}, owned by '${owner}'`);
    }
    for (const topic of s.effects.changed ?? []) {
      if (topic.startsWith('recs/') && partition(topic.slice('recs/'.length)) !== partition(s.key)) out.push(`${what} changed ${topic}`);
    }
    for (const m of s.effects.messages ?? []) {
      if (m.topic.startsWith('kiosk/') && partition('customers/kiosks') !== partition(s.key)) out.push(`${what} published on ${m.topic}`);
    }
  }
  return out;
}

describe('customer domain under random traffic', () => {
  it('keeps identities consistent, limits held, kiosk indexes exact, and refusals without effect', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 200 }), (ops) => {
        const steps: AppliedStep[] = [];
        const r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()], { onStep: (step) => steps.push(step) });
        for (const s of STORES) r.apply({ type: 'location.upserted', location: s, kind: 'store', lat: 1, lon: 2 });
        let ts = Date.UTC(2026, 0, 1);
        for (const { gapMin, ...ev } of ops as Array<Record<string, any>>) {
          ts += (gapMin ?? 1) * 60_000;
          const before = r.dump();
          const erasing = ev.type === 'customer.erased' ? (customerRecord(r.view, ev.customer)?.ids ?? [ev.customer]) : [];
          const effects = r.apply({ ...ev, ts } as never);
          if (!effects.result.ok) expect(r.dump()).toBe(before);
          const found = [...problems(r), ...trespasses(steps.splice(0)), ...(effects.result.ok ? erasureLeftovers(r, erasing) : [])];
          if (found.length > 0) throw new Error(`after ${JSON.stringify(ev)}: ${found.join('; ')}`);
        }
      }),
      { numRuns: 150, seed: FC_SEED },
    );
  });
});
