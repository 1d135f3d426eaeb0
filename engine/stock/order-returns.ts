// A return, anywhere: checked whole at the order's partition, then the goods put back on hand
// at the return's location, one stock.restock per line at each SKU's partition, which replies
// order.restocked; the return is answered once every line is back (order-lifecycle.ts, lineDone).

import type { InputEvent } from '../types.ts';
import { MAX_ROW_UNITS } from './change.ts';
import { countCommerce, crosses, noticeStore, priced } from './order-news.ts';
import { mergeLines, moved, notAllowed, type Transition } from './order-transition.ts';
import type { Handler } from './outcomes.ts';
import { ON_HAND, type OrderReturn } from './types.ts';

type Line = { sku: string; qty: number };

/** Puts returned goods back on hand at a SKU; replies to the order's saga. */
export interface RestockEvent extends InputEvent {
  type: 'stock.restock';
  sku: string;
  location: string;
  qty: number;
  reply: { order: string; origin: string; line: number };
}

const RETURNABLE = ['shipped', 'completed', 'partially_returned'];

export const returnOrder: Transition = (c, order, ev, at, s) => {
  if (!RETURNABLE.includes(order.status)) return notAllowed(order, ev, 'an order that is shipped, completed or partially_returned');
  const returnId = ev.return as string;
  if ((order.returns ?? []).some((r) => r.return === returnId)) {
    return { error: { code: 'conflict', message: `order '${order.id}' already has a return '${returnId}'` } };
  }
  const location = ev.location as string;
  if (!c.location(location)) return { error: { code: 'unknown_location', message: `location '${location}' has not been declared` } };
  const until = (order.returnFrom ?? -Infinity) + s.returnWindowMs;
  if (at.eventTime > until) {
    return { error: { code: 'return_window_passed', message: `order '${order.id}' could be returned until ${new Date(until).toISOString()}` } };
  }
  const lines = mergeLines(ev.lines as Line[]).map(({ sku, qty }) => ({ sku, qty }));
  for (const l of lines) {
    const bought = order.lines.find((o) => o.sku === l.sku);
    const left = bought ? bought.qty - (bought.returned ?? 0) : 0;
    if (l.qty > left) {
      return { error: { code: 'return_exceeds_order', message: `${l.qty} × ${l.sku} returned; order '${order.id}' has ${left} of it left to return` } };
    }
  }
  const channel = ev.channel as string | undefined;
  const refund = priced(order, lines);
  const record: OrderReturn = { return: returnId, lines, location, ...(channel !== undefined ? { channel } : {}), ...(refund !== undefined ? { refund } : {}) };
  const orderLines = order.lines.map((o) => {
    const back = lines.find((l) => l.sku === o.sku)?.qty ?? 0;
    return { ...o, returned: (o.returned ?? 0) + back };
  });
  const status = orderLines.every((o) => o.returned >= o.qty) ? 'returned' : 'partially_returned';
  let next = { ...moved(order, status, at.eventTime, { ...(channel !== undefined ? { channel } : {}), location }), lines: orderLines, returns: [...(order.returns ?? []), record] };
  // A return in no named channel is one over the counter.
  const kinds = crosses(order, channel ?? 'store', location) ? (['returned', 'cross'] as const) : (['returned'] as const);
  next = countCommerce(c, next, [...kinds], at.eventTime, ev.id, s.countCommerce);
  lines.forEach((l, line) => {
    const restock: RestockEvent = { id: `${ev.id}/restock/${line}`, type: 'stock.restock', ...l, location, reply: { order: order.id, origin: ev.id, line } };
    c.emit(restock);
  });
  noticeStore(c, location, { type: 'return', order: order.id, return: returnId, lines }, ev.id);
  const answer = { return: returnId, ...(refund !== undefined ? { refund } : {}) };
  return { order: { ...next, saga: { event: ev, closing: lines.map(() => true), answer } }, result: undefined };
};

/** Returned goods back on hand at a SKU's row; the order's saga is told either way. */
const restock: Handler = (c, raw) => {
  const ev = raw as RestockEvent;
  const state = c.skuState(ev.sku);
  const i = state ? state.locations.indexOf(ev.location) : -1;
  const onHand = i < 0 ? 0 : state!.rows[3 * i + ON_HAND];
  // Past the row's bound (a row counted far above what is real) the goods are not added, rather
  // than leave the return waiting for a reply that never comes.
  if (onHand + ev.qty <= MAX_ROW_UNITS) c.change(ev.sku, ev.location, { onHand: ev.qty });
  c.emit({ id: `${ev.id}/reply`, type: 'order.restocked', ...ev.reply });
  return c.effects();
};

export const RESTOCK_STEPS: Record<string, Handler> = { 'stock.restock': restock };
