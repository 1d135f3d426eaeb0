// An order's life after it is placed, at the order's partition (it owns `stock/order/<X>` and
// the order's holds `stock/res/order:<X>:<i>`):
//
//   order.ready      pickup order, placed → ready; its hold at the store runs out at readyUntil
//                    (clock), when the timer makes it expired and releases its holds
//   order.picked_up  pickup order, placed | ready → completed: holds sold (stock.unhold, sold)
//   order.shipped    ship order, placed → shipped: holds sold
//   order.delivered  shipped → completed
//   order.fulfilled  picked_up for a pickup order, shipped for a ship order
//   order.cancelled  placed | ready → cancelled: holds released
//   order.returned   shipped | completed | partially_returned: goods restocked (order-returns.ts)
//
// A change whose SKUs must act (holds ended, goods restocked) is a saga, answered once every
// line replied (order.unheld, order.restocked). Order events sent meanwhile, or while the order
// is placing, wait in the saga and are done when it ends, in the order they came (runWaiting).

import type { Effects, EventContext, InputEvent, TimerSpec } from '../types.ts';
import type { StockChange } from './change.ts';
import { unholdEvent } from './holds.ts';
import { countCommerce, crosses, noticeStore, withSaga, writeOrder } from './order-news.ts';
import { returnOrder } from './order-returns.ts';
import { freeShipSlots } from './ship-capacity.ts';
import { moved, notAllowed, statusAnswer, unknownOrder, type Outcome, type Transition } from './order-transition.ts';
import { rejection, type Handler, type StockSettings } from './outcomes.ts';
import { keys, type Order, type OrderRecord, type OrderSaga } from './types.ts';

export const readyTimerId = (order: string) => `order/${order}/ready`;

/** Ends every hold of the order (sold, or released): a saga its SKUs answer with order.unheld. */
function endHolds(c: StockChange, was: Order, next: Order, ev: InputEvent, sold: boolean): Outcome {
  if (was.status === 'ready') c.cancelTimer(readyTimerId(was.id));
  next.allocation.forEach((a, line) => {
    c.put(keys.reservation(a.reservation), undefined);
    c.emit(unholdEvent(`${ev.id}/unhold/${line}`, a, sold, { reply: { order: next.id, origin: ev.id, line } }));
  });
  if (next.allocation.length === 0) return { order: next, result: statusAnswer(next) };
  return { order: { ...next, saga: { event: ev, closing: next.allocation.map(() => true) } }, result: undefined };
}

const ready: Transition = (c, order, ev, at, s) => {
  if (order.pickup === undefined || order.status !== 'placed') return notAllowed(order, ev, 'a pickup order that is placed');
  const readyUntil = at.now + s.pickupHoldMs;
  c.setTimer({ id: readyTimerId(order.id), at: readyUntil, data: { order: order.id } });
  const next = { ...moved(order, 'ready', at.eventTime, { location: order.pickup }), readyUntil };
  return { order: next, result: { ...statusAnswer(next), readyUntil } };
};

const pickedUp: Transition = (c, order, ev, at, s) => {
  if (order.pickup === undefined || (order.status !== 'placed' && order.status !== 'ready')) {
    return notAllowed(order, ev, 'a pickup order that is placed or ready');
  }
  // Picked up at the counter of its store: the return window starts now.
  let next: Order = { ...moved(order, 'completed', at.eventTime, { channel: 'store', location: order.pickup }), returnFrom: at.eventTime };
  next = countCommerce(c, next, crosses(order, 'store', order.pickup) ? ['fulfilled', 'cross'] : ['fulfilled'], at.eventTime, ev.id, s.countCommerce);
  return endHolds(c, order, next, ev, true);
};

const shipped: Transition = (c, order, ev, at, s) => {
  if (order.ship === undefined || order.status !== 'placed') return notAllowed(order, ev, 'a ship order that is placed');
  const shipment = { ...(ev.carrier != null ? { carrier: ev.carrier as string } : {}), ...(ev.tracking != null ? { tracking: ev.tracking as string } : {}) };
  let next: Order = { ...moved(order, 'shipped', at.eventTime), returnFrom: at.eventTime, shipment };
  next = countCommerce(c, next, ['fulfilled'], at.eventTime, ev.id, s.countCommerce);
  return endHolds(c, order, next, ev, true);
};

const delivered: Transition = (_c, order, ev, at) => {
  if (order.status !== 'shipped') return notAllowed(order, ev, 'a ship order that is shipped');
  // The return window still runs from the shipping.
  const next = moved(order, 'completed', at.eventTime);
  return { order: next, result: statusAnswer(next) };
};

const fulfilled: Transition = (c, order, ev, at, s) => (order.pickup !== undefined ? pickedUp : shipped)(c, order, ev, at, s);

const cancelled: Transition = (c, order, ev, at, s) => {
  if (order.status !== 'placed' && order.status !== 'ready') return notAllowed(order, ev, 'an order that is placed or ready');
  const next = countCommerce(c, moved(order, 'cancelled', at.eventTime), ['cancelled'], at.eventTime, ev.id, s.countCommerce);
  // Not shipped: its shipping slots go back to their day.
  freeShipSlots(c, order, ev.id);
  return endHolds(c, order, next, ev, false);
};

const TRANSITIONS: Record<string, Transition> = {
  'order.ready': ready,
  'order.picked_up': pickedUp,
  'order.shipped': shipped,
  'order.delivered': delivered,
  'order.fulfilled': fulfilled,
  'order.cancelled': cancelled,
  'order.returned': returnOrder,
};

/** An order event as it is sent: done now, or (a saga under way) kept until the saga ends. */
const orderEvent: Handler = (c, ev, ctx, s) => {
  const id = ev.order as string;
  const order = c.view.get<OrderRecord>(keys.order(id));
  if (!order) return rejection('unknown_order', `no order '${id}'`);
  if (order.saga) return waitForSaga(c, order, order.saga, ev, ctx);
  const out = TRANSITIONS[ev.type](c, order as Order, ev, ctx, s);
  if ('error' in out) return { result: { ok: false, error: out.error } };
  writeOrder(c, out.order);
  if (!out.result) return c.pending();
  if (!out.result.ok) return { result: out.result };
  const { ok: _ok, ...answer } = out.result;
  return c.effects(answer);
};

/** Keeps `ev` in the order's saga under way, answered when it is done once the saga ends (runWaiting). */
export function waitForSaga(c: StockChange, order: OrderRecord, saga: OrderSaga, ev: InputEvent, ctx: EventContext): Effects {
  // Its own time goes with it: it is done later, in another step.
  const waiting = [...(saga.waiting ?? []), ev.ts === undefined ? { ...ev, ts: ctx.eventTime } : ev];
  c.put(keys.order(order.id), { ...order, saga: { ...saga, waiting } });
  return c.pending();
}

/**
 * A saga of the order ended (`order` as it is now; undefined when its placing was refused): the
 * order events that waited are done now, in the order they came, and answered as they would
 * have been had they come after it — until one begins a saga, where the rest wait again.
 * Writes the order.
 */
export function runWaiting(c: StockChange, orderId: string, order: Order | undefined, waiting: InputEvent[] | undefined, ctx: EventContext, s: StockSettings): void {
  let current = order;
  const list = waiting ?? [];
  for (let i = 0; i < list.length; i++) {
    const ev = list[i];
    if (!current) {
      c.answer(ev.id, { ok: false, error: unknownOrder(orderId) });
      continue;
    }
    if (current.saga) {
      current = { ...current, saga: { ...current.saga, waiting: list.slice(i) } };
      break;
    }
    // A placing of this id that waited for another (order-saga.ts): that one placed it.
    if (ev.type === 'order.placed') {
      c.answer(ev.id, { ok: false, error: { code: 'conflict', message: `order '${orderId}' already exists` } });
      continue;
    }
    const out = TRANSITIONS[ev.type](c, current, ev, { eventTime: (ev.ts as number | undefined) ?? ctx.eventTime, now: ctx.now }, s);
    if ('error' in out) {
      c.answer(ev.id, { ok: false, error: out.error });
      continue;
    }
    current = out.order;
    if (out.result) c.answer(ev.id, out.result, ev);
  }
  if (current) writeOrder(c, current);
}

/** One line of the order's saga done at its SKU (a hold ended, goods restocked); the last one answers. */
const lineDone: Handler = (c, ev, ctx, s) => {
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
  c.answer(saga.event.id, { ok: true, order: order.id, status: order.status, ...saga.answer }, saga.event);
  runWaiting(c, order.id, withSaga(order, undefined) as Order, saga.waiting, ctx, s);
  return c.effects();
};

/** The pickup hold of a ready order ran out: its holds are released and its store told. */
export function expireOrder(c: StockChange, timer: TimerSpec, ctx: EventContext, s: StockSettings): boolean {
  const { order: id } = timer.data as { order: string };
  const order = c.view.get<OrderRecord>(keys.order(id));
  // Picked up, cancelled or readied again since: nothing to expire.
  if (!order || order.status !== 'ready' || order.readyUntil !== timer.at || order.saga) return false;
  const cause = `${timer.id}@${timer.at}`;
  order.allocation.forEach((a, line) => {
    c.put(keys.reservation(a.reservation), undefined);
    c.emit(unholdEvent(`${cause}/unhold/${line}`, a, false));
  });
  const store = order.pickup!;
  const next = countCommerce(c, moved(order as Order, 'expired', ctx.eventTime, { location: store }), ['expired'], ctx.eventTime, cause, s.countCommerce);
  c.alert({ type: 'pickup_expired', order: id, location: store, ...(order.customer !== undefined ? { customer: order.customer } : {}) });
  noticeStore(c, store, { type: 'expired', order: id }, cause);
  // A timer is no event others can follow: this one is (the customer's order list).
  c.emit({ id: `${cause}/expired`, type: 'order.expired', order: id });
  writeOrder(c, next);
  return true;
}

/** The news that a ready order expired, applied at the order's partition for its followers: it changes nothing. */
const expiredNews: Handler = (c) => c.effects();

export const LIFECYCLE_STEPS: Record<string, Handler> = {
  ...Object.fromEntries(Object.keys(TRANSITIONS).map((type) => [type, orderEvent])),
  'order.unheld': lineDone,
  'order.restocked': lineDone,
  'order.expired': expiredNews,
};
