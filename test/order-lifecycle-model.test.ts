// The order lifecycle against a reference model (order-lifecycle-reference.ts): random order
// events — placing (pickup and ship, with and without prices), every transition valid or not,
// returns of random lines and quantities at random locations, unknown orders, clock ticks that
// let pickup holds run out and return windows pass, and (through the real engine) events of one
// order sent together and repeated event ids — each answered as the model predicts, with the
// order's view, every stock row and (on the pure runner) the store notices and pickup_expired
// alerts equal to the model's after each step.

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEngine, orderView, stockProcessor, type OrderView } from '../engine/mod.ts';
import type { EventResult, FinalResult, InputEvent, StateView } from '../engine/types.ts';
import { LAGS, LOCATION_IDS, LOCATIONS, OPTIONS, Reference, setupEvents, SKUS, T0, type Notice } from './order-lifecycle-reference.ts';
import { PureRunner } from './pure-harness.ts';

const ORDER_IDS = ['o1', 'o2', 'o3', 'o4'];
const NEVER_PLACED = 'o-none';
const TRANSITIONS = ['order.ready', 'order.picked_up', 'order.shipped', 'order.delivered', 'order.fulfilled', 'order.cancelled'] as const;

type Intent =
  | { kind: 'place'; order: string; pickup: 'S1' | 'S2' | null; home: boolean; twice: boolean; picks: number[]; qtys: number[]; prices: number[] | null; channel: string | null; customer: string | null }
  | { kind: 'move'; type: (typeof TRANSITIONS)[number]; order: string }
  | { kind: 'return'; order: string; returnable: boolean; rest: boolean; lines: Array<{ pick: number; qty: number }>; location: string; channel: string | null }
  | { kind: 'tick'; ms: number }
  | { kind: 'repeat'; back: number };

const orderId = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...ORDER_IDS) }, { weight: 1, arbitrary: fc.constant(NEVER_PLACED) });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });

const placeArb: fc.Arbitrary<Intent> = fc.record({
  kind: fc.constant('place' as const),
  order: fc.constantFrom(...ORDER_IDS),
  pickup: fc.constantFrom('S1' as const, 'S2' as const, null),
  home: fc.boolean(),
  twice: fc.boolean(),
  picks: fc.uniqueArray(fc.integer({ min: 0, max: SKUS.length - 1 }), { minLength: 1, maxLength: 3 }),
  qtys: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
  prices: maybe(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 3, maxLength: 3 })),
  channel: maybe(fc.constantFrom('web', 'app', 'store', 'kiosk', 'phone', 'social')),
  customer: maybe(fc.constantFrom('c1', 'c2')),
});

const intentArb: fc.Arbitrary<Intent> = fc.oneof(
  { weight: 4, arbitrary: placeArb },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('move' as const), type: fc.constantFrom(...TRANSITIONS), order: orderId }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('return' as const),
      order: orderId,
      returnable: fc.boolean(),
      rest: fc.constantFrom(true, false, false),
      lines: fc.array(fc.record({ pick: fc.integer({ min: 0, max: 9 }), qty: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 2 }) }, fc.integer({ min: 3, max: 5 })) }), { minLength: 1, maxLength: 3 }),
      location: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...LOCATION_IDS) }, { weight: 1, arbitrary: fc.constant('X9') }),
      channel: maybe(fc.constantFrom('web', 'store', 'phone')),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(10, 1000, 3000, 6000) }) },
);

const lagsArb = fc.array(fc.constantFrom(...LAGS), { minLength: 1, maxLength: 20 });

function comparable(view: OrderView | undefined): unknown {
  if (!view) return undefined;
  return { ...view, allocation: view.allocation.map(({ sku, qty, location }) => ({ sku, qty, location })) };
}

/** The event an intent stands for, given what the model knows now (a return mostly names the order's own lines). */
function eventOf(intent: Intent, model: Reference, n: number, lag: number): InputEvent | undefined {
  const id = `ev${n}`;
  const ts = model.now - lag;
  if (intent.kind === 'place') {
    const pool = intent.pickup !== null && intent.home ? LOCATIONS.find((l) => l.location === intent.pickup)!.skus : SKUS;
    const skus = [...new Set(intent.picks.map((p) => pool[p % pool.length]))];
    const lines = skus.map((sku, i) => ({ sku, qty: intent.qtys[i], ...(intent.prices ? { price: intent.prices[i] } : {}) }));
    // A SKU's second line at the same price: one line of the order.
    if (intent.twice) lines.push({ ...lines[0], qty: intent.qtys[2] });
    return {
      id,
      ts,
      type: 'order.placed',
      order: intent.order,
      lines,
      ...(intent.pickup !== null ? { pickup: intent.pickup } : { ship: { lat: 51, lon: 10 } }),
      ...(intent.channel !== null ? { channel: intent.channel } : {}),
      ...(intent.customer !== null ? { customer: intent.customer } : {}),
      ...(intent.prices ? { currency: 'EUR' } : {}),
    };
  }
  if (intent.kind === 'move') {
    const extra = intent.type === 'order.shipped' && n % 2 === 0 ? { carrier: 'dhl', tracking: `t${n}` } : intent.type === 'order.cancelled' && n % 2 === 0 ? { reason: 'changed mind' } : {};
    return { id, ts, type: intent.type, order: intent.order, ...extra };
  }
  if (intent.kind === 'return') {
    // Half of them go to an order that can take a return, when there is one.
    const order = (intent.returnable && [...model.orders.values()].find((o) => ['shipped', 'completed', 'partially_returned'].includes(o.status))?.id) || intent.order;
    const own = model.orders.get(order)?.lines ?? [];
    const rest = own.filter((l) => l.returned < l.qty).map((l) => ({ sku: l.sku, qty: l.qty - l.returned }));
    const lines = intent.rest && rest.length > 0 ? rest : intent.lines.map(({ pick, qty }) => ({ sku: own.length > 0 && pick < 7 ? own[pick % own.length].sku : SKUS[pick % SKUS.length], qty }));
    return { id, ts, type: 'order.returned', return: `ret${n}`, order, lines, location: intent.location, ...(intent.channel !== null ? { channel: intent.channel } : {}), ...(n % 3 === 0 ? { reason: 'too small' } : {}) };
  }
  return undefined;
}

const sorted = (notices: Notice[]) => notices.map((n) => JSON.stringify(n)).sort();

/** The store notices and pickup_expired alerts among messages, as the model tells them. */
function told(messages: Array<{ topic: string; data: unknown }>): string[] {
  const notices: Notice[] = [];
  for (const { topic, data } of messages) {
    const d = data as Notice;
    if (topic.startsWith('store/')) notices.push({ topic, type: d.type, order: d.order, ...(d.type === 'return' ? { return: d.return, lines: d.lines } : {}) });
    else if (topic === 'alerts/stock' && d.type === 'pickup_expired') notices.push({ topic, type: d.type, order: d.order });
  }
  return sorted(notices);
}

/** Every order's view and every stock row, as the model has them. */
function checkState(model: Reference, view: StateView, row: (sku: string) => { locations: Record<string, { onHand: number; reserved: number }> } | undefined): void {
  for (const id of [...ORDER_IDS, NEVER_PLACED]) expect(comparable(orderView(view, id)), `order ${id}`).toEqual(model.view(id));
  for (const sku of SKUS) {
    const locations = row(sku)?.locations ?? {};
    for (const loc of LOCATION_IDS) {
      const { onHand = 0, reserved = 0 } = locations[loc] ?? {};
      expect({ onHand, reserved }, `${sku}@${loc}`).toEqual({ onHand: model.rows.get(`${sku}@${loc}`)?.onHand ?? 0, reserved: model.rows.get(`${sku}@${loc}`)?.reserved ?? 0 });
    }
  }
}

describe('order lifecycle against a reference model', () => {
  it('answers, order views and stock rows follow the model for random order traffic (pure runner)', () => {
    fc.assert(
      fc.property(fc.array(intentArb, { minLength: 1, maxLength: 60, size: 'max' }), lagsArb, (intents, lags) => {
        const r = new PureRunner(stockProcessor(OPTIONS));
        r.now = T0;
        for (const ev of setupEvents()) expect(r.applyValid(ev).result.ok).toBe(true);
        const model = new Reference();
        let seen = r.messages.length;
        let heard = 0;
        intents.forEach((intent, n) => {
          if (intent.kind === 'tick') {
            model.tick(intent.ms);
            r.now = model.now;
            r.fireDue();
          } else {
            const ev = eventOf(intent, model, n, lags[n % lags.length]);
            if (ev) model.apply(ev, r.apply(ev).result as FinalResult);
          }
          checkState(model, r.view, (sku) => r.render(`stock/${sku}`));
          expect(told(r.messages.slice(seen)), `told after step ${n}`).toEqual(sorted(model.news.slice(heard)));
          seen = r.messages.length;
          heard = model.news.length;
        });
      }),
      { numRuns: 200 },
    );
  });

  // Events of one order sent together wait for each other's sagas and are answered as if sent
  // one by one; an id sent again — later, or twice in one request — gets the first answer.
  it('the engine answers the same, one order’s events sent together too, and a repeated id gets the first answer marked duplicate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omni-order-model-'));
    let run = 0;
    const repeatArb = fc.record({ kind: fc.constant('repeat' as const), back: fc.nat(10) });
    const traffic = fc.array(fc.oneof({ weight: 6, arbitrary: intentArb }, { weight: 1, arbitrary: repeatArb }), { minLength: 1, maxLength: 40, size: 'max' });
    const sending = fc.array(fc.constantFrom('alone', 'join', 'join', 'twice'), { minLength: 1, maxLength: 40 });
    try {
      await fc.assert(
        fc.asyncProperty(traffic, sending, lagsArb, async (intents, how, lags) => {
          const model = new Reference();
          const engine = await openEngine({ path: join(dir, String(++run)), processors: [stockProcessor(OPTIONS)], clock: { now: () => model.now }, autoTimers: false, durability: 'none' });
          try {
            for (const answer of await engine.submit(setupEvents())) expect(answer.ok).toBe(true);
            const sent: Array<{ ev: InputEvent; answer: EventResult }> = [];
            for (let i = 0; i < intents.length; ) {
              const intent = intents[i];
              if (intent.kind === 'tick') {
                model.tick(intent.ms);
                await engine.runDueTimers();
                i++;
              } else if (intent.kind === 'repeat') {
                const first = sent[sent.length - 1 - (intent.back % Math.max(1, sent.length))];
                if (first) expect((await engine.submit([first.ev]))[0]).toEqual({ ...first.answer, duplicate: true });
                i++;
              } else {
                const eventAt = (k: number, it = intents[k]) => eventOf(it, model, k, lags[k % lags.length])!;
                const events = [eventAt(i)];
                // A change that joins is sent for the first event's order. Only changes join: the
                // reference answers a placing at once, not after a placing of the id under way.
                for (let k = i + 1; k < intents.length && how[k % how.length] === 'join'; k++) {
                  const next = intents[k];
                  if (next.kind !== 'move' && next.kind !== 'return') break;
                  events.push(eventAt(k, { ...next, order: events[0].order as string, ...(next.kind === 'return' ? { returnable: false } : {}) }));
                }
                const twice = how[i % how.length] === 'twice';
                const answers = await engine.submit(twice ? [events[0], ...events] : events);
                if (twice) expect(answers.splice(1, 1)[0]).toEqual({ ...answers[0], duplicate: true });
                events.forEach((ev, k) => {
                  const { id: _id, ...result } = answers[k];
                  model.apply(ev, result as FinalResult);
                  sent.push({ ev, answer: answers[k] });
                });
                i += events.length;
              }
              await engine.idle();
              checkState(model, { get: (key) => engine.read(key) }, (sku) => engine.snapshot(`stock/${sku}`)?.data as never);
            }
          } finally {
            await engine.close();
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
