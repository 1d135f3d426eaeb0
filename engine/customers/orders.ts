// Each customer's recent orders, kept from the stock domain's order events (this processor
// follows them), for the service desk's 360 context. The stock domain stays unaware of it. The
// news is read on the order's partition and kept on the customer's (route.ts).

import type { Order } from '../stock/mod.ts';
import { stockKeys } from '../stock/mod.ts';
import type { InputEvent, StateView } from '../types.ts';
import type { StateEditor } from '../staged-state.ts';
import { isBlocked, type IdentityOptions } from './identity/mod.ts';
import type { OrderNews } from './internal-events.ts';
import { customerNamed } from './route.ts';
import { keys, MAX_SUMMARY_LINES, type OrderSummary } from './types.ts';

export function recentOrders(view: StateView, customer: string): OrderSummary[] {
  return view.get<OrderSummary[]>(keys.orders(customer)) ?? [];
}

/** What GET /v1/customers/:subject/orders lists: the ids of the customer's kept orders, newest first. */
export interface CustomerOrders {
  /** Undefined when the subject names no customer known here. */
  customer?: string;
  orders: string[];
  /** How many orders are kept per customer: the most a caller may ask for. */
  kept: number;
}

export function customerOrders(view: StateView, subject: string, kept: number): CustomerOrders {
  // A customer known only from its orders (never linked, no session) is named by the id the orders gave.
  const customer = customerNamed(view, subject) ?? (view.get(keys.orders(subject)) !== undefined ? subject : undefined);
  if (customer === undefined) return { orders: [], kept };
  return { customer, orders: recentOrders(view, customer).map((o) => o.order), kept };
}

function save(state: StateEditor, customer: string, list: OrderSummary[], kept: number): void {
  state.put(keys.orders(customer), list.slice(0, kept));
  // Summaries pushed out leave their ids behind, so an erasure still finds every order naming the customer.
  if (list.length > kept) keepOlder(state, customer, list.slice(kept).map((o) => o.order));
}

export function olderOrders(view: StateView, customer: string): string[] {
  return view.get<string[]>(keys.olderOrders(customer)) ?? [];
}

/**
 * The customer's older orders (kept by id only, past its kept summaries) as summaries of the
 * orders' own records, newest first: the data-subject export shows them with the kept ones. An
 * order no longer held (another domain's record, read committed) is left out.
 */
export function olderOrderSummaries(view: StateView, customer: string): OrderSummary[] {
  const out: OrderSummary[] = [];
  for (const id of olderOrders(view, customer)) {
    const order = view.get<Order>(stockKeys.order(id));
    if (order === undefined) continue;
    const lines = order.lines.slice(0, MAX_SUMMARY_LINES).map((l) => ({ sku: l.sku, qty: l.qty }));
    out.push({ order: id, status: order.status, lines, placedAt: order.placedAt, ...(order.pickup !== undefined ? { pickup: order.pickup } : {}) });
  }
  return out.sort((a, b) => b.placedAt - a.placedAt);
}

/** Adds order ids to the customer's older orders (each once). */
export function keepOlder(state: StateEditor, customer: string, ids: readonly string[]): void {
  if (ids.length === 0) return;
  const had = olderOrders(state, customer);
  const fresh = ids.filter((id) => !had.includes(id));
  if (fresh.length > 0) state.put(keys.olderOrders(customer), [...had, ...fresh]);
}

/**
 * What an order event (placed, or any later change of its status) means for its customer's list, read on the
 * order's partition: the customer as the order names it (any of its ids), and the news.
 * Undefined for an order without a customer (or a blocked one).
 */
export function orderNews(view: StateView, ev: InputEvent, eventTime: number, identity?: IdentityOptions): { customer: string; news: OrderNews } | undefined {
  const id = ev.order as string;
  if (ev.type === 'order.placed') {
    if (typeof ev.customer !== 'string' || isBlocked(ev.customer, identity)) return undefined;
    const lines = (ev.lines as Array<{ sku: string; qty: number }>).slice(0, MAX_SUMMARY_LINES).map((l) => ({ sku: l.sku, qty: l.qty }));
    const summary: OrderSummary = {
      order: id,
      status: 'placed',
      lines,
      placedAt: eventTime,
      ...(typeof ev.pickup === 'string' ? { pickup: ev.pickup } : {}),
    };
    return { customer: ev.customer, news: { summary } };
  }
  const order = view.get<Order>(stockKeys.order(id));
  if (order?.customer === undefined) return undefined;
  return { customer: order.customer, news: { order: id, status: order.status } };
}

/** An order's news on its customer's partition. */
export function applyOrderNews(state: StateEditor, customer: string, news: OrderNews, kept: number): void {
  const list = recentOrders(state, customer);
  if ('summary' in news) {
    save(state, customer, [news.summary, ...list.filter((o) => o.order !== news.summary.order)], kept);
    return;
  }
  const i = list.findIndex((o) => o.order === news.order);
  if (i < 0) return;
  const next = list.slice();
  next[i] = { ...list[i], status: news.status };
  save(state, customer, next, kept);
}

/** How far an order has come: of two summaries of one order, the one further on is kept. */
const PROGRESS: Record<OrderSummary['status'], number> = {
  placed: 0,
  ready: 1,
  shipped: 2,
  fulfilled: 2,
  completed: 3,
  cancelled: 3,
  expired: 3,
  partially_returned: 4,
  returned: 5,
};

/** A merged-away customer's orders (`gone`), arriving on the survivor's partition. */
export function mergeOrders(state: StateEditor, gone: readonly OrderSummary[], into: string, kept: number): void {
  if (gone.length === 0) return;
  const byOrder = new Map<string, OrderSummary>();
  for (const o of [...recentOrders(state, into), ...gone]) {
    const had = byOrder.get(o.order);
    if (had === undefined || PROGRESS[o.status] > PROGRESS[had.status]) byOrder.set(o.order, o);
  }
  const merged = [...byOrder.values()].sort((a, b) => b.placedAt - a.placedAt || (a.order < b.order ? -1 : 1));
  save(state, into, merged, kept);
}
