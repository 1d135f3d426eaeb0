// The stock sagas on the pure runner: every step writes only keys its own partition owns, an
// order is all or nothing across SKUs, replies that come late or twice change nothing, a
// release may overtake its reserve, holds expire through their timer, steps applied in any
// order across partitions (each partition's in order) leave every hold accounted for — and over
// random traffic every answer, row and alert is the one the processor gave before its sagas
// (test/fixtures/stock-before-sagas.ts).

import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../engine/partitions.ts';
import type { AppliedStep } from '../engine/pure-runner.ts';
import { stockProcessor } from '../engine/stock/mod.ts';
import { keys, ownerOfKey, resKey } from '../engine/stock/types.ts';
import { isPending, type InputEvent } from '../engine/types.ts';
import { stockBeforeSagas } from './fixtures/stock-before-sagas.ts';
import { PureRunner } from './pure-harness.ts';
import { setup, SKUS, stepArb, type Step } from './stock-traffic.ts';

const PARTITIONS = 32;
const partition = (key: string) => partitionOf(key, PARTITIONS);

let r: PureRunner;
let steps: AppliedStep[];

const receive = (sku: string, location: string, qty: number) => r.apply({ type: 'stock.received', sku, location, qty });
const row = (sku: string, location: string) => r.render(`stock/${sku}@${location}`);
const code = (e: { result: any }) => (e.result.ok ? (e.result.pending ? 'pending' : 'ok') : e.result.error.code);
const queued = (type: string) => r.queue.filter((e) => e.type === type);

/** Applies derived events until the oldest one waiting is of `type` (not applying it). */
function stepUntil(type: string): InputEvent {
  while (r.queue.length > 0 && r.queue[0].type !== type) r.step();
  expect(r.queue[0]?.type).toBe(type);
  return r.queue[0];
}

function runner(): PureRunner {
  steps = [];
  return new PureRunner(stockProcessor({ lowStockThreshold: 1, defaultTtlMs: 60_000 }), { onStep: (s) => steps.push(s) });
}

beforeEach(() => {
  r = runner();
  setup(r);
  receive('A', 'S1', 5);
  receive('B', 'S1', 5);
  receive('A', 'W1', 10);
  receive('B', 'W1', 1);
  steps.length = 0;
});

describe('ownership', () => {
  it('resKey keeps an order’s reservations with the order, any other reservation by itself', () => {
    expect(resKey('order:O1:0')).toBe('O1');
    expect(resKey('order:a:b:12')).toBe('a:b');
    expect(resKey('order:O1:x')).toBe('order:O1:x');
    expect(resKey('R1')).toBe('R1');
    expect(ownerOfKey(keys.reservation('order:O1:3'))).toBe('O1');
    expect(ownerOfKey(keys.sku('A'))).toBe('A');
    expect(ownerOfKey(keys.order('O1'))).toBe('O1');
    expect(ownerOfKey(keys.location('S1'))).toBe('locations');
    expect(ownerOfKey(keys.locationIndex)).toBe('locations');
  });

  it('over random traffic, every key a step writes and every message it publishes belongs to the partition of that step’s key', () => {
    // The traffic's keys fall in several partitions: a write at another key's partition would show.
    expect(new Set(['A', 'B', 'C', 'o1', 'o2', 'r1', 'locations', 'alerts/stock'].map(partition)).size).toBeGreaterThan(4);
    const seen = { locationWrites: 0, alerts: 0 };
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 80 }), (traffic) => {
        r = runner();
        setup(r);
        for (const step of traffic) applyStep(r, step);
        for (const s of steps) {
          const what = `${s.event?.type ?? 'timer'} at '${s.key}'`;
          for (const [key] of s.effects.writes ?? []) {
            const owner = ownerOfKey(key);
            expect(owner, `${key} has an owner`).toBeDefined();
            expect(partition(owner!), `${what} wrote ${key}`).toBe(partition(s.key));
            if (owner === 'locations') seen.locationWrites++;
          }
          // An event topic has one seq counter: only the partition its topic names advances it.
          for (const m of s.effects.messages ?? []) {
            expect(m.topic === 'alerts/stock' || m.topic.startsWith('store/'), m.topic).toBe(true);
            expect(partition(s.key), `${what} published on ${m.topic}`).toBe(partition(m.topic));
            if (m.topic === 'alerts/stock') seen.alerts++;
          }
        }
      }),
      { numRuns: 300 },
    );
    // Both checks ran on something: locations and the index were written, alerts published.
    expect(seen.locationWrites).toBeGreaterThan(0);
    expect(seen.alerts).toBeGreaterThan(0);
  });

  it('an alert is raised by the SKU’s step and published one step later by the alerts’ owner, unchanged', () => {
    const stock = stockProcessor();
    r.autoDrain = false;
    r.messages.length = 0;
    const sold = r.apply({ id: 'S', type: 'stock.sold', sku: 'A', location: 'S1', qty: 6 });
    expect(sold.messages).toBeUndefined();
    expect(r.messages).toEqual([]);
    expect(sold.emit?.map((e) => [e.id, e.type, stock.partitionKey(e)])).toEqual([
      ['S/alert/0', 'stock.alert', 'alerts/stock'],
      ['S/alert/1', 'stock.alert', 'alerts/stock'],
    ]);
    r.drain();
    expect(steps.map((s) => [s.kind, s.event?.type, s.key])).toEqual([
      ['event', 'stock.sold', 'A'],
      ['derived', 'stock.alert', 'alerts/stock'],
      ['derived', 'stock.alert', 'alerts/stock'],
    ]);
    expect(r.messages).toEqual([
      { topic: 'alerts/stock', data: { type: 'low_stock', sku: 'A', location: 'S1', available: 0, threshold: 1 } },
      { topic: 'alerts/stock', data: { type: 'discrepancy', sku: 'A', location: 'S1', onHand: -1, qty: 6, channel: null } },
    ]);
  });

  it('a saga step is never accepted from a sender', () => {
    const before = r.dump();
    for (const type of stockProcessor().internalTypes!) {
      expect(code(r.apply({ type, sku: 'A', qty: 1, location: 'S1', reservation: 'R1', origin: 'x', reply: 'stock.held', order: 'O1', line: 0 }))).toBe('unknown_type');
    }
    expect(r.dump()).toBe(before);
  });

  it('an expiry timer fires at the reservation’s partition and ends the hold at the SKU’s', () => {
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 4, location: 'S1', ttlMs: 1000 });
    steps.length = 0;
    r.now += 1000;
    expect(r.fireDue()).toBe(1);
    expect(steps.map((s) => [s.kind, s.event?.type, s.key])).toEqual([
      ['timer', undefined, 'R1'],
      ['derived', 'stock.unhold', 'A'],
    ]);
    expect(steps[0].effects.writes).toEqual([['stock/res/R1', undefined]]);
    expect(row('A', 'S1')).toMatchObject({ reserved: 0, available: 5 });
  });
});

describe('orders are all or nothing across SKUs', () => {
  it('a line its quote cannot cover refuses the order before anything is held', () => {
    const before = r.dump();
    const placed = r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 6 }], pickup: 'S1' });
    expect(placed.result).toEqual({
      ok: false,
      error: { code: 'insufficient_stock', message: '6 × B wanted at S1, 5 available', wanted: 6, available: 5 },
    });
    expect(steps.map((s) => s.event?.type)).toEqual(['order.placed', 'stock.quote', 'stock.quote', 'order.quoted', 'order.quoted']);
    expect(r.dump()).toBe(before);
  });

  it('a line refused at its SKU (stock gone since its quote) leaves nothing held anywhere', () => {
    r.autoDrain = false;
    r.apply({ id: 'P1', type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 3 }], pickup: 'S1' });
    stepUntil('stock.hold');
    r.apply({ type: 'stock.sold', sku: 'B', location: 'S1', qty: 4 }); // sent after, applied before B's hold
    const afterSale = r.dump();
    stepUntil('order.held');
    expect(row('A', 'S1').reserved).toBe(2); // A held, B refused: both replies on their way
    r.drain();
    expect(r.answers.get('P1')).toEqual({
      ok: false,
      error: { code: 'insufficient_stock', message: '3 × B wanted at S1, 1 available', wanted: 3, available: 1 },
    });
    expect(row('A', 'S1').reserved).toBe(0);
    expect(r.dump()).not.toContain('stock/order/O1');
    expect(JSON.parse(r.dump())).toEqual(JSON.parse(afterSale).filter(([k]: [string]) => k !== 'stock/order/O1'));
  });

  it('a shipped order whose plan was overtaken by a sale is refused and unholds what it held', () => {
    r.autoDrain = false;
    r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 12 }, { sku: 'B', qty: 1 }], ship: { lat: 50, lon: 8.7 } });
    stepUntil('stock.hold');
    expect(queued('stock.hold').map((h) => [h.sku, h.location, h.qty])).toEqual([
      ['A', 'W1', 10],
      ['A', 'S1', 2],
      ['B', 'W1', 1],
    ]);
    r.apply({ type: 'stock.sold', sku: 'B', location: 'W1', qty: 1 }); // sent after, applied before the hold
    const before = r.dump();
    r.drain();
    const [answer] = [...r.answers.values()];
    expect(answer).toMatchObject({ ok: false, error: { code: 'insufficient_stock', message: '1 × B wanted at W1, 0 available' } });
    expect(row('A', 'W1').reserved).toBe(0);
    expect(row('A', 'S1').reserved).toBe(0);
    expect(r.state.has('stock/order/O1')).toBe(false);
    expect(r.dump()).not.toBe(before); // the placing record is gone, nothing else changed
    expect([...r.state.keys()].filter((k) => k.startsWith('stock/res/'))).toEqual([]);
  });

  it('a reservation made with one of the order’s ids while it holds makes it a conflict, undone', () => {
    r.autoDrain = false;
    const before = r.dump();
    r.apply({ id: 'P1', type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' });
    stepUntil('stock.hold');
    r.apply({ id: 'RES1', type: 'stock.reserve', reservation: 'order:O1:0', sku: 'B', qty: 1, location: 'S1' });
    r.drain();
    expect(r.answers.get('P1')).toEqual({ ok: false, error: { code: 'conflict', message: "reservation 'order:O1:0' already exists" } });
    expect(r.answers.get('RES1')).toMatchObject({ ok: true });
    expect(row('A', 'S1').reserved).toBe(0);
    expect(row('B', 'S1').reserved).toBe(1);
    r.apply({ type: 'stock.release', reservation: 'order:O1:0' });
    r.drain();
    expect(r.dump()).toBe(before);
  });

  it('fulfil answers once every line is unheld, and a close sent meanwhile waits for it, then is refused', () => {
    r.autoDrain = false;
    r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }], pickup: 'S1' });
    r.drain();
    const fulfil = r.apply({ id: 'fulfil', type: 'order.fulfilled', order: 'O1' });
    expect(code(fulfil)).toBe('pending');
    expect(code(r.apply({ id: 'cancel', type: 'order.cancelled', order: 'O1' }))).toBe('pending');
    r.step(); // A unheld (sold); B not yet
    r.step();
    expect(r.answers.size).toBe(1); // the placing only
    r.drain();
    expect(r.answers.get('fulfil')).toEqual({ ok: true, order: 'O1', status: 'completed' });
    expect(r.answers.get('cancel')).toMatchObject({ ok: false, error: { code: 'invalid_transition' } });
    expect(row('A', 'S1')).toMatchObject({ onHand: 3, reserved: 0 });
    expect(row('B', 'S1')).toMatchObject({ onHand: 4, reserved: 0 });
    expect(r.state.get('stock/order/O1')).not.toHaveProperty('saga');
  });

  it('closes sent while the order is placing wait, and are answered as if they came after it', () => {
    r.autoDrain = false;
    r.apply({ id: 'place', type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }], pickup: 'S1' });
    expect(code(r.apply({ id: 'cancel', type: 'order.cancelled', order: 'O1' }))).toBe('pending');
    expect(code(r.apply({ id: 'fulfil', type: 'order.fulfilled', order: 'O1' }))).toBe('pending');
    r.drain();
    expect(r.answers.get('place')).toMatchObject({ ok: true, order: 'O1' });
    expect(r.answers.get('cancel')).toEqual({ ok: true, order: 'O1', status: 'cancelled' });
    expect(r.answers.get('fulfil')).toMatchObject({ ok: false, error: { code: 'invalid_transition', message: expect.stringContaining("order 'O1' is cancelled") } });
    expect(row('A', 'S1')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(row('B', 'S1')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(r.state.get('stock/order/O1')).toMatchObject({ status: 'cancelled' });
    expect(r.state.get('stock/order/O1')).not.toHaveProperty('saga');

    // A placing that is refused: the close waiting for it finds no order.
    r.apply({ id: 'place2', type: 'order.placed', order: 'O2', lines: [{ sku: 'B', qty: 99 }], pickup: 'S1' });
    r.apply({ id: 'cancel2', type: 'order.cancelled', order: 'O2' });
    r.drain();
    expect(r.answers.get('place2')).toMatchObject({ ok: false, error: { code: 'insufficient_stock' } });
    expect(r.answers.get('cancel2')).toMatchObject({ ok: false, error: { code: 'unknown_order' } });
    expect(r.state.get('stock/order/O2')).toBeUndefined();
  });
});

describe('late and repeated replies', () => {
  it('a hold reply for a reservation that is gone is undone at its SKU', () => {
    const before = r.dump();
    r.applyValid({ id: 'x/hold', type: 'stock.hold', sku: 'A', qty: 3, location: 'S1', reservation: 'GHOST', origin: 'x', reply: 'stock.held' });
    expect(r.dump()).toBe(before);
    expect(steps.map((s) => s.event?.type)).toEqual(['stock.hold', 'stock.held', 'stock.unhold']);
  });

  it('a hold reply for an order that is no longer placing under that event is undone', () => {
    const before = r.dump();
    r.applyValid({ id: 'y/hold/0', type: 'stock.hold', sku: 'A', qty: 1, location: 'S1', reservation: 'order:O9:0', origin: 'y', reply: 'order.held', order: 'O9', line: 0 });
    expect(r.dump()).toBe(before);
  });

  it('a repeated reply counts once, whether its saga is under way or done', () => {
    r.autoDrain = false;
    r.apply({ type: 'order.placed', order: 'O1', lines: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }], pickup: 'S1' });
    const reply = stepUntil('order.held');
    r.applyValid({ ...reply, id: `${reply.id}/again` });
    r.drain();
    r.applyValid({ ...reply, id: `${reply.id}/late` });
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1, location: 'S1' });
    const held = stepUntil('stock.held');
    r.drain();
    r.applyValid({ ...held, id: `${held.id}/late` });
    r.drain();
    expect(row('A', 'S1').reserved).toBe(3);
    expect(row('B', 'S1').reserved).toBe(1);
    expect([...r.answers.values()].every((a) => a.ok)).toBe(true);
  });

  it('stale quotes and unhold replies change nothing', () => {
    const before = r.dump();
    r.applyValid({ id: 'q', type: 'order.quoted', order: 'O1', origin: 'nobody', line: 0, sku: 'A', rows: [['S1', 5]] });
    r.applyValid({ id: 'u', type: 'order.unheld', order: 'O1', origin: 'nobody', line: 0 });
    expect(r.dump()).toBe(before);
  });
});

describe('reservations', () => {
  it('a release sent while its reserve is pending waits, then ends the hold once it is made', () => {
    r.autoDrain = false;
    const reserve = r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 4, location: 'S1' });
    const release = r.apply({ type: 'stock.release', reservation: 'R1' });
    const commit = r.apply({ type: 'stock.commit', reservation: 'R1' });
    expect([reserve, release, commit].map(code)).toEqual(['pending', 'pending', 'pending']);
    r.drain();
    expect([...r.answers.values()]).toEqual([
      { ok: true, reservation: 'R1', location: 'S1', expiresAt: r.now + 60_000 },
      { ok: false, error: { code: 'unknown_reservation', message: "no active reservation 'R1'" } },
      { ok: true, reservation: 'R1' },
    ]);
    expect(row('A', 'S1')).toMatchObject({ onHand: 5, reserved: 0 });
    expect(r.state.has('stock/res/R1')).toBe(false);
    expect(r.timers.size).toBe(0);
  });

  it('a commit waiting on a reserve that is refused is answered unknown_reservation', () => {
    r.autoDrain = false;
    const before = r.dump();
    r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 40 });
    r.apply({ type: 'stock.commit', reservation: 'R1' });
    r.drain();
    expect([...r.answers.values()].map((a) => (a.ok ? 'ok' : a.error.code))).toEqual(['insufficient_stock', 'unknown_reservation']);
    expect(r.dump()).toBe(before);
  });

  it('a reserve answers when its SKU replies: pending until then, with the hold’s place and expiry after', () => {
    r.autoDrain = false;
    r.apply({ id: 'RES1', type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 6 });
    expect(r.state.get('stock/res/R1')).toMatchObject({ pending: true });
    expect(code(r.apply({ type: 'stock.reserve', reservation: 'R1', sku: 'A', qty: 1 }))).toBe('conflict');
    expect(r.answers.has('RES1')).toBe(false);
    r.drain();
    expect(r.answers.get('RES1')).toEqual({ ok: true, reservation: 'R1', location: 'W1', expiresAt: r.now + 60_000 });
    expect(r.timers.get('res/R1')?.at).toBe(r.now + 60_000);
  });
});

describe('any interleaving', () => {
  it('of saga steps across partitions with new events ends every saga with each hold accounted for', () => {
    const processor = stockProcessor();
    fc.assert(
      fc.property(fc.array(fc.tuple(stepArb, fc.array(fc.nat(), { maxLength: 2 })), { minLength: 1, maxLength: 120 }), (traffic) => {
        const run = new PureRunner(processor);
        setup(run);
        run.autoDrain = false;
        const pending: string[] = [];
        let n = 0;
        for (const [step, picks] of traffic) {
          if (step.type === 'tick') {
            run.now += step.ms as number;
            run.fireDue();
          } else if (isPending(run.apply({ id: `c${++n}`, ...step }).result)) pending.push(`c${n}`);
          // Steps of any partitions, each partition's in the order they were emitted.
          for (const pick of picks) {
            const heads = run.queue.filter((ev, i) => !run.queue.slice(0, i).some((e) => partition(processor.partitionKey(e)) === partition(processor.partitionKey(ev))));
            if (heads.length === 0) break;
            const next = heads[pick % heads.length];
            run.queue.splice(run.queue.indexOf(next), 1);
            run.applyValid(next);
          }
        }
        run.drain();
        for (const id of pending) expect(run.answers.has(id), `${id} answered`).toBe(true);
        const holds = new Map<string, number>();
        for (const [key, value] of run.state) {
          expect(value, key).not.toHaveProperty('pending');
          expect(value, key).not.toHaveProperty('saga');
          if (!key.startsWith('stock/res/')) continue;
          const res = value as { sku: string; location: string; qty: number };
          holds.set(`${res.sku}@${res.location}`, (holds.get(`${res.sku}@${res.location}`) ?? 0) + res.qty);
        }
        for (const s of SKUS) {
          for (const [l, at] of Object.entries<any>(run.render(`stock/${s}`)?.locations ?? {})) expect(at.reserved, `${s}@${l}`).toBe(holds.get(`${s}@${l}`) ?? 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the same answers as before the sagas', () => {
  it('for random traffic: each answer, every SKU’s rows and every alert', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 120 }), (traffic) => {
        const sagas = new PureRunner(stockProcessor());
        const before = new PureRunner(stockBeforeSagas());
        setup(sagas);
        setup(before);
        for (const step of traffic) {
          expect(applyStep(sagas, step)).toEqual(applyStep(before, step));
          for (const s of SKUS) expect(sagas.render(`stock/${s}`)).toEqual(before.render(`stock/${s}`));
        }
        // Orders now also tell their stores (store/<location>), which the version before did not.
        expect(sagas.messages.filter((m) => m.topic === 'alerts/stock')).toEqual(before.messages);
        // Nothing left half done: no pending reservation, no order being placed or closed.
        for (const [key, value] of sagas.state) {
          expect(value, key).not.toHaveProperty('pending');
          expect(value, key).not.toHaveProperty('saga');
        }
      }),
      { numRuns: 400 },
    );
  });
});

/** One step of random traffic: an event's answer, or for a tick the timers fired. */
function applyStep(runner: PureRunner, step: Step): unknown {
  if (step.type !== 'tick') return runner.apply(step).result;
  runner.now += step.ms as number;
  return runner.fireDue();
}
