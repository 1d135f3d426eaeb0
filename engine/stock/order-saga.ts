// The order saga, coordinated at the order's partition: it owns `stock/order/<X>` and the
// order's reservations `stock/res/order:<X>:<i>` (resKey); each SKU's partition owns its rows.
//
//   order.placed   → `placing` record, stock.quote per line                       (answer pending)
//   order.quoted   → once every SKU answered: plan as a single-partition order would (pickup:
//                    every line at the store; ship: allocateShipment), then a stock.hold per
//                    allocation line — or answer insufficient_stock, having held nothing. A
//                    ship order first asks for room and claims its shipping slots when a location
//                    that could send it has a shipCapacity (ship-capacity.ts)
//   order.held     → once every hold answered: all held → reservations written, `placed`,
//                    answered {order, allocation}; any refused → what was held is unheld, the
//                    record deleted, answered the first refusal in line order
//
// What follows the placing (ready, picked up, shipped, cancelled, returned …) is in
// order-lifecycle.ts; order events sent while the order is placing (another placing of the id
// too) wait in its record and are done when the placing ends, as if they had come after
// (runWaiting, afterRefusedPlacing).

import type { EventError, InputEvent } from '../types.ts';
import type { StockChange } from './change.ts';
import { unholdEvent, type HoldEvent, type HoldReply } from './holds.ts';
import { runWaiting, waitForSaga } from './order-lifecycle.ts';
import { countCommerce, noticeStore, withSaga } from './order-news.ts';
import { mergeLines } from './order-transition.ts';
import { insufficientError, rejection, type Handler } from './outcomes.ts';
import { askShipRoom, freeShipSlots, shipPlan, shipSourcingSteps } from './ship-capacity.ts';
import { keys, type AllocationLine, type Order, type OrderChannel, type OrderRecord, type OrderSaga, type Reservation } from './types.ts';

type Line = { sku: string; qty: number; price?: number };
type PlanLine = { sku: string; qty: number; location: string };

const reservationId = (order: string, i: number) => `order:${order}:${i}`;

const placeOrder: Handler = (c, ev, ctx) => {
  const orderId = ev.order as string;
  const existing = c.view.get<OrderRecord>(keys.order(orderId));
  // Another placing of this id is under way: whether this one conflicts depends on how that
  // one ends, so it waits for it, with its own time, like any order event.
  if (existing?.status === 'placing' && existing.saga) return waitForSaga(c, existing, existing.saga, ev, ctx);
  if (existing) return rejection('conflict', `order '${orderId}' already exists`);
  const error = beginPlacing(c, ev, ctx.eventTime, undefined);
  return error ? { result: { ok: false, error } } : c.pending();
};

/** Checks a placing and, when it may go on, writes its `placing` record and asks every line's SKU; else why not, nothing done. */
function beginPlacing(c: StockChange, ev: InputEvent, eventTime: number, waiting: InputEvent[] | undefined): EventError | undefined {
  const orderId = ev.order as string;
  // Lines of one SKU give one price (events.ts): merged, they keep it.
  const lines = mergeLines(ev.lines as Line[]).map((l) => ({ ...l, returned: 0 }));
  if (ev.pickup != null) {
    const store = ev.pickup as string;
    const loc = c.location(store);
    if (!loc) return { code: 'unknown_location', message: `location '${store}' has not been declared` };
    if (loc.kind !== 'store') return { code: 'invalid_event', message: `pickup location '${store}' is a ${loc.kind}, not a store` };
  }
  const order: OrderRecord = {
    id: orderId,
    status: 'placing',
    lines,
    allocation: [],
    placedAt: eventTime,
    history: [],
    returns: [],
    ...(ev.customer ? { customer: ev.customer as string } : {}),
    ...(ev.pickup != null ? { pickup: ev.pickup as string } : { ship: ev.ship as { lat: number; lon: number } }),
    ...(ev.channel != null ? { channel: ev.channel as OrderChannel } : {}),
    ...(ev.currency != null ? { currency: ev.currency as string } : {}),
  };
  lines.forEach((l, line) => c.emit({ id: `${ev.id}/quote/${line}`, type: 'stock.quote', sku: l.sku, order: orderId, origin: ev.id, line }));
  c.put(keys.order(orderId), withSaga(order, { event: ev, quotes: lines.map(() => null), ...(waiting && waiting.length > 0 ? { waiting } : {}) }));
  return undefined;
}

/**
 * A placing was refused and its record is gone: what waited is done as if it came after (an
 * unknown order) up to the next placing of the id, which begins now, the rest waiting for it.
 */
function afterRefusedPlacing(c: StockChange, orderId: string, waiting: InputEvent[] | undefined, ctx: Parameters<Handler>[2], s: Parameters<Handler>[3]): void {
  let list = waiting ?? [];
  for (;;) {
    const next = list.findIndex((ev) => ev.type === 'order.placed');
    runWaiting(c, orderId, undefined, next < 0 ? list : list.slice(0, next), ctx, s);
    if (next < 0) return;
    const ev = list[next];
    list = list.slice(next + 1);
    const error = beginPlacing(c, ev, (ev.ts as number | undefined) ?? ctx.eventTime, list);
    if (!error) return;
    c.answer(ev.id, { ok: false, error });
  }
}

function askHolds(c: StockChange, order: OrderRecord, saga: OrderSaga, plan: PlanLine[]): void {
  const origin = saga.event.id;
  plan.forEach((p, line) => {
    const hold: HoldEvent = { id: `${origin}/hold/${line}`, type: 'stock.hold', sku: p.sku, qty: p.qty, location: p.location, reservation: reservationId(order.id, line), origin, reply: 'order.held', order: order.id, line };
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
const quoted: Handler = (c, ev, ctx, settings) => {
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
  // A location with a shipping capacity first asks its owner which are full (ship-capacity.ts).
  if (order.pickup === undefined && askShipRoom(c, order, { ...saga, quotes })) return c.effects();
  const plan = order.pickup !== undefined ? pickupPlan(c, order, quotes) : shipPlan(c, order, quotes);
  const taken = plan ? takenReservation(c, order.id, plan) : undefined;
  if (plan && !taken) {
    askHolds(c, order, saga, plan);
    return c.effects();
  }
  refusePlacing(c, order, saga, taken, ctx, settings);
  return c.effects();
};

/** Ends a placing that holds nothing: answered `error` (unless answered already), the record gone, what waited done. */
function refusePlacing(c: StockChange, order: OrderRecord, saga: OrderSaga, error: EventError | undefined, ...step: [Parameters<Handler>[2], Parameters<Handler>[3]]): void {
  if (error) c.answer(saga.event.id, { ok: false, error });
  c.put(keys.order(order.id), undefined);
  afterRefusedPlacing(c, order.id, saga.waiting, ...step);
}

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
  return order.lines.map((l) => ({ sku: l.sku, qty: l.qty, location: store }));
}

/** A SKU's reply to one of the order's holds; the last one to come ends the placing. */
const held: Handler = (c, raw, ctx, settings) => {
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
    freeShipSlots(c, order, saga.event.id);
    refusePlacing(c, order, saga, error, ctx, settings);
    return c.effects();
  }
  const allocation: AllocationLine[] = plan.map((p, i) => ({ sku: p.sku, qty: p.qty, location: p.location, reservation: reservationId(order.id, i) }));
  const holds: Reservation[] = allocation.map((a) => ({ id: a.reservation, sku: a.sku, location: a.location, qty: a.qty, order: order.id }));
  for (const res of holds) c.put(keys.reservation(res.id), res);
  const placedEvent = saga.event;
  const channel = order.channel !== undefined ? { channel: order.channel } : {};
  let placed: Order = { ...(withSaga(order, undefined) as Order), status: 'placed', allocation, origin: placedEvent.id, history: [{ status: 'placed', at: order.placedAt, ...channel }] };
  placed = countCommerce(c, placed, ['placed'], order.placedAt, placedEvent.id, settings.countCommerce);
  if (placed.pickup !== undefined) {
    const lines = placed.lines.map((l) => ({ sku: l.sku, qty: l.qty }));
    noticeStore(c, placed.pickup, { type: 'pickup', order: order.id, lines, ...(placed.customer !== undefined ? { customer: placed.customer } : {}), ...channel }, placedEvent.id);
  }
  c.answer(placedEvent.id, { ok: true, order: order.id, allocation }, placedEvent);
  runWaiting(c, order.id, placed, saga.waiting, ctx, settings);
  return c.effects();
};

export const PLACING_STEPS: Record<string, Handler> = {
  'order.placed': placeOrder,
  'order.quoted': quoted,
  'order.held': held,
  ...shipSourcingSteps({ placing, taken: takenReservation, askHolds, refuse: refusePlacing }),
};
