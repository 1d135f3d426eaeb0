// The order saga, coordinated at the order's partition: it owns `stock/order/<X>` and the
// order's reservations `stock/res/order:<X>:<i>` (resKey); each SKU's partition owns its rows.
//
//   order.placed   → `placing` record, stock.quote per line                       (answer pending)
//   order.quoted   → once every SKU answered: plan as a single-partition order would (pickup:
//                    every line at the store; ship: allocateShipment), then a stock.hold per
//                    allocation line — or answer insufficient_stock, having held nothing
//   order.held     → once every hold answered: all held → reservations written, `placed`,
//                    answered {order, allocation}; any refused → what was held is unheld, the
//                    record deleted, answered the first refusal in line order
//   order.fulfilled / order.cancelled
//                  → status set, reservations deleted, stock.unhold per line (sold when fulfilled);
//                    sent while the order is placing, it waits in the record and is done when
//                    the placing ends, as if it had come after
//   order.unheld   → once every line is unheld: answered {order, status}

import type { EventError, FinalResult, InputEvent } from '../types.ts';
import { allocateShipment, haversineKm, type Candidate } from './allocation.ts';
import type { StockChange } from './change.ts';
import { unholdEvent, type HoldEvent, type HoldReply } from './holds.ts';
import { insufficientError, rejection, unknownLocation, type Handler } from './outcomes.ts';
import { keys, type AllocationLine, type OrderLine, type OrderRecord, type OrderSaga, type OrderStatus, type Reservation } from './types.ts';

type Line = { sku: string; qty: number };
type PlanLine = Line & { location: string };

const reservationId = (order: string, i: number) => `order:${order}:${i}`;

function mergeLines(lines: Line[]): OrderLine[] {
  const bySku = new Map<string, number>();
  for (const l of lines) bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.qty);
  return [...bySku].map(([sku, qty]) => ({ sku, qty, returned: 0 }));
}

/** The order record with its saga replaced (or ended, `undefined`). */
function withSaga(order: OrderRecord, saga: OrderSaga | undefined): OrderRecord {
  const { saga: _previous, ...rest } = order;
  return saga ? { ...rest, saga } : rest;
}

const placeOrder: Handler = (c, ev, ctx) => {
  const orderId = ev.order as string;
  if (c.view.get(keys.order(orderId))) return rejection('conflict', `order '${orderId}' already exists`);
  const lines = mergeLines(ev.lines as Line[]);
  if (ev.pickup != null) {
    const store = ev.pickup as string;
    const loc = c.location(store);
    if (!loc) return unknownLocation(store);
    if (loc.kind !== 'store') return rejection('invalid_event', `pickup location '${store}' is a ${loc.kind}, not a store`);
  }
  const order: OrderRecord = {
    id: orderId,
    status: 'placing',
    lines,
    allocation: [],
    placedAt: ctx.eventTime,
    history: [],
    returns: [],
    ...(ev.customer ? { customer: ev.customer as string } : {}),
    ...(ev.pickup != null ? { pickup: ev.pickup as string } : { ship: ev.ship as { lat: number; lon: number } }),
  };
  lines.forEach((l, line) => c.emit({ id: `${ev.id}/quote/${line}`, type: 'stock.quote', sku: l.sku, order: orderId, origin: ev.id, line }));
  c.put(keys.order(orderId), withSaga(order, { event: ev, quotes: lines.map(() => null) }));
  return c.pending();
};

function askHolds(c: StockChange, order: OrderRecord, saga: OrderSaga, plan: PlanLine[]): void {
  const origin = saga.event.id;
  plan.forEach((p, line) => {
    const hold: HoldEvent = { id: `${origin}/hold/${line}`, type: 'stock.hold', ...p, reservation: reservationId(order.id, line), origin, reply: 'order.held', order: order.id, line };
    c.emit(hold);
  });
  c.put(keys.order(order.id), withSaga(order, { event: saga.event, plan, replies: plan.map(() => null), ...(saga.waiting ? { waiting: saga.waiting } : {}) }));
}

/** The order placing under this saga step's `origin`, or undefined for a step of a saga that is over. */
function placing(c: StockChange, ev: InputEvent): { order: OrderRecord; saga: OrderSaga } | undefined {
  const order = c.view.get<OrderRecord>(keys.order(ev.order as string));
  if (order?.status !== 'placing' || !order.saga || order.saga.event.id !== ev.origin) return undefined;
  return { order, saga: order.saga };
}

/** A SKU's availability for the order; the last one to come plans the holds. */
const quoted: Handler = (c, ev) => {
  const found = placing(c, ev);
  const line = ev.line as number;
  // A quote holds nothing: a stale or repeated one is simply dropped.
  if (!found?.saga.quotes || found.saga.quotes[line] !== null) return c.effects();
  const { order, saga } = found;
  const quotes = saga.quotes!.slice();
  quotes[line] = ev.rows as Array<[string, number]>;
  if (quotes.includes(null)) {
    c.put(keys.order(order.id), withSaga(order, { ...saga, quotes }));
    return c.effects();
  }
  const plan = order.pickup !== undefined ? pickupPlan(c, order, quotes) : shipPlan(c, order, quotes);
  const taken = plan ? takenReservation(c, order.id, plan) : undefined;
  if (plan && !taken) {
    askHolds(c, order, saga, plan);
    return c.effects();
  }
  if (taken) c.answer(saga.event.id, { ok: false, error: taken });
  c.put(keys.order(order.id), undefined);
  waitingCloses(c, order.id, saga.waiting, undefined);
  return c.effects();
};

/** The order's reservation ids are its own: one made by stock.reserve makes the order a conflict. */
function takenReservation(c: StockChange, orderId: string, plan: PlanLine[]): EventError | undefined {
  const i = plan.findIndex((_, line) => c.view.get(keys.reservation(reservationId(orderId, line))) !== undefined);
  return i < 0 ? undefined : { code: 'conflict', message: `reservation '${reservationId(orderId, i)}' already exists` };
}

type Quotes = NonNullable<OrderSaga['quotes']>;

/** Every line at the pickup store, or (answered) the first line it cannot cover. */
function pickupPlan(c: StockChange, order: OrderRecord, quotes: Quotes): PlanLine[] | undefined {
  const store = order.pickup!;
  for (const [i, l] of order.lines.entries()) {
    const have = quotes[i]!.find(([location]) => location === store)?.[1] ?? 0;
    if (have < l.qty) {
      c.answer(order.saga!.event.id, { ok: false, error: insufficientError(l.sku, store, l.qty, have) });
      return undefined;
    }
  }
  return order.lines.map((l) => ({ ...l, location: store }));
}

/** The allocation a single partition reading every SKU at once would make, or (answered) why none. */
function shipPlan(c: StockChange, order: OrderRecord, quotes: Quotes): PlanLine[] | undefined {
  const ship = order.ship!;
  const candidates = new Map<string, Candidate>();
  order.lines.forEach((l, i) => {
    for (const [locId, available] of quotes[i]!) {
      let cand = candidates.get(locId);
      if (!cand) {
        const loc = c.location(locId);
        if (!loc) continue;
        cand = { id: locId, km: haversineKm(ship.lat, ship.lon, loc.lat, loc.lon), available: new Map() };
        candidates.set(locId, cand);
      }
      cand.available.set(l.sku, available);
    }
  });
  const plan = allocateShipment([...candidates.values()], order.lines);
  if (!plan) {
    const have = (sku: string) => [...candidates.values()].reduce((sum, cand) => sum + (cand.available.get(sku) ?? 0), 0);
    const short = order.lines.find((l) => have(l.sku) < l.qty)!;
    c.answer(order.saga!.event.id, { ok: false, error: insufficientError(short.sku, undefined, short.qty, have(short.sku)) });
  }
  return plan;
}

/** A SKU's reply to one of the order's holds; the last one to come ends the placing. */
const held: Handler = (c, raw) => {
  const ev = raw as HoldReply;
  const found = placing(c, ev);
  const line = ev.line!;
  if (!found?.saga.replies) {
    // Nobody waits for this hold (its saga is over): end it rather than leave it held — unless
    // it is a repeat of a reply the placed order counted.
    const repeated = c.view.get<OrderRecord>(keys.order(ev.order!))?.origin === ev.origin;
    if (!repeated && ev.location !== undefined) c.emit(unholdEvent(`${ev.id}/undo`, { ...ev, location: ev.location }, false));
    return c.effects();
  }
  const { order, saga } = found;
  // Already counted: a repeated reply.
  if (saga.replies![line] !== null) return c.effects();
  const replies = saga.replies!.slice();
  replies[line] = ev.location !== undefined ? { location: ev.location } : { error: ev.error! };
  if (replies.includes(null)) {
    c.put(keys.order(order.id), withSaga(order, { ...saga, replies }));
    return c.effects();
  }
  const plan = saga.plan!;
  const refused = replies.find((r) => r !== null && 'error' in r) as { error: EventError } | undefined;
  // Checked again: a stock.reserve may have taken one of the order's ids while it held.
  const error = refused?.error ?? takenReservation(c, order.id, plan);
  if (error) {
    replies.forEach((r, i) => {
      if (r !== null && 'location' in r) c.emit(unholdEvent(`${saga.event.id}/undo/${i}`, { ...plan[i], reservation: reservationId(order.id, i) }, false));
    });
    c.put(keys.order(order.id), undefined);
    c.answer(saga.event.id, { ok: false, error });
    waitingCloses(c, order.id, saga.waiting, undefined);
    return c.effects();
  }
  const allocation: AllocationLine[] = plan.map((p, i) => ({ sku: p.sku, qty: p.qty, location: p.location, reservation: reservationId(order.id, i) }));
  const holds: Reservation[] = allocation.map((a) => ({ id: a.reservation, sku: a.sku, location: a.location, qty: a.qty, order: order.id }));
  for (const res of holds) c.put(keys.reservation(res.id), res);
  const placed: OrderRecord = { ...withSaga(order, undefined), status: 'placed', allocation, origin: saga.event.id };
  c.put(keys.order(order.id), placed);
  c.answer(saga.event.id, { ok: true, order: order.id, allocation }, saga.event);
  waitingCloses(c, order.id, saga.waiting, placed, holds);
  return c.effects();
};

const closingStatus = (ev: InputEvent, order: OrderRecord): OrderStatus => (ev.type !== 'order.fulfilled' ? 'cancelled' : order.pickup !== undefined ? 'completed' : 'shipped');

/**
 * Ends a placed order's holds for `ev`: an unhold per line (sold when fulfilled). The answer now,
 * or undefined when the SKUs give it (order.unheld). `reservation` finds a line's hold: the
 * state's, or those the placing step is writing in this very step.
 */
function closePlaced(c: StockChange, order: OrderRecord, ev: InputEvent, reservation: (id: string) => Reservation | undefined): FinalResult | undefined {
  const orderId = order.id;
  const status = closingStatus(ev, order);
  if (order.status !== 'placed') return { ok: false, error: { code: 'conflict', message: `order '${orderId}' is already ${order.status}` } };
  const closing = order.allocation.map(() => false);
  order.allocation.forEach((a, line) => {
    const res = reservation(a.reservation);
    if (!res) return;
    c.put(keys.reservation(a.reservation), undefined);
    c.emit(unholdEvent(`${ev.id}/unhold/${line}`, { ...res, reservation: res.id }, status !== 'cancelled', { reply: { order: orderId, origin: ev.id, line } }));
    closing[line] = true;
  });
  if (!closing.includes(true)) {
    c.put(keys.order(orderId), { ...order, status });
    return { ok: true, order: orderId, status };
  }
  c.put(keys.order(orderId), withSaga({ ...order, status }, { event: ev, closing }));
  return undefined;
}

function closeOrder(): Handler {
  return (c, ev) => {
    const orderId = ev.order as string;
    const order = c.view.get<OrderRecord>(keys.order(orderId));
    if (!order) return rejection('not_found', `no order '${orderId}'`);
    if (order.status === 'placing') {
      // Sent before its placing ended: done when it ends, as if it had come after (waitingCloses).
      const saga = order.saga!;
      c.put(keys.order(orderId), withSaga(order, { ...saga, waiting: [...(saga.waiting ?? []), ev] }));
      return c.pending();
    }
    const answer = closePlaced(c, order, ev, (id) => c.view.get<Reservation>(keys.reservation(id)));
    if (answer === undefined) return c.pending();
    return answer.ok ? c.effects({ order: orderId, status: answer.status }) : { result: answer };
  };
}

/**
 * The placing ended (`order` placed, or undefined when refused): the fulfilments and
 * cancellations sent meanwhile are done now, in the order they came, and answered as they would
 * have been after it — the first closes a placed order, the rest find it closed; a refused order
 * is not found.
 */
function waitingCloses(c: StockChange, orderId: string, waiting: InputEvent[] | undefined, order: OrderRecord | undefined, placedHolds?: Reservation[]): void {
  let current = order;
  for (const ev of waiting ?? []) {
    if (!current) {
      c.answer(ev.id, { ok: false, error: { code: 'not_found', message: `no order '${orderId}'` } });
      continue;
    }
    const answer = closePlaced(c, current, ev, (id) => placedHolds?.find((r) => r.id === id));
    if (answer) c.answer(ev.id, answer, answer.ok ? ev : undefined);
    if (current.status === 'placed') current = { ...current, status: closingStatus(ev, current) };
  }
}

/** One line of a closing order ended at its SKU; the last one answers the order's event. */
const unheld: Handler = (c, ev) => {
  const order = c.view.get<OrderRecord>(keys.order(ev.order as string));
  const saga = order?.saga;
  const line = ev.line as number;
  if (!order || !saga || saga.event.id !== ev.origin || !saga.closing?.[line]) return c.effects();
  const closing = saga.closing.slice();
  closing[line] = false;
  if (closing.includes(true)) {
    c.put(keys.order(order.id), withSaga(order, { ...saga, closing }));
    return c.effects();
  }
  c.put(keys.order(order.id), withSaga(order, undefined));
  c.answer(saga.event.id, { ok: true, order: order.id, status: order.status }, saga.event);
  return c.effects();
};

export const ORDER_STEPS: Record<string, Handler> = {
  'order.placed': placeOrder,
  'order.quoted': quoted,
  'order.held': held,
  'order.fulfilled': closeOrder(),
  'order.cancelled': closeOrder(),
  'order.unheld': unheld,
};
