// Each customer's recent orders, kept from the stock domain's order events (this processor
// follows them), for the service desk's 360 context. The stock domain stays unaware of it.

import type { Order } from '../stock/mod.ts';
import { stockKeys } from '../stock/mod.ts';
import type { InputEvent, StateView } from '../types.ts';
import type { StateEditor } from '../staged-state.ts';
import { ensureCustomer, resolveCustomer, type IdentityOptions } from './identity/mod.ts';
import { keys, MAX_SUMMARY_LINES, type OrderSummary } from './types.ts';

export function recentOrders(view: StateView, customer: string): OrderSummary[] {
  return view.get<OrderSummary[]>(keys.orders(customer)) ?? [];
}

function save(state: StateEditor, customer: string, list: OrderSummary[], kept: number): void {
  state.put(keys.orders(customer), list.slice(0, kept));
}

/** Records an order event (placed, fulfilled, cancelled) on its customer's list. */
export function followOrder(state: StateEditor, ev: InputEvent, eventTime: number, kept: number, identity?: IdentityOptions): void {
  const id = ev.order as string;
  if (ev.type === 'order.placed') {
    if (typeof ev.customer !== 'string') return;
    const who = ensureCustomer(state, ev.customer, { time: eventTime, event: ev.id }, identity);
    if ('blocked' in who) return;
    const lines = (ev.lines as Array<{ sku: string; qty: number }>).slice(0, MAX_SUMMARY_LINES).map((l) => ({ sku: l.sku, qty: l.qty }));
    const summary: OrderSummary = {
      order: id,
      status: 'placed',
      lines,
      placedAt: eventTime,
      ...(typeof ev.pickup === 'string' ? { pickup: ev.pickup } : {}),
    };
    save(state, who.customer, [summary, ...recentOrders(state, who.customer).filter((o) => o.order !== id)], kept);
    return;
  }
  const order = state.get<Order>(stockKeys.order(id));
  if (order?.customer === undefined) return;
  const customer = resolveCustomer(state, order.customer);
  if (customer === undefined) return;
  const list = recentOrders(state, customer);
  const i = list.findIndex((o) => o.order === id);
  if (i < 0) return;
  const next = list.slice();
  next[i] = { ...list[i], status: order.status };
  save(state, customer, next, kept);
}

export function mergeOrders(state: StateEditor, from: string, into: string, kept: number): void {
  const gone = recentOrders(state, from);
  if (gone.length === 0) return;
  state.put(keys.orders(from), undefined);
  const merged = [...recentOrders(state, into), ...gone].sort((a, b) => b.placedAt - a.placedAt || (a.order < b.order ? -1 : 1));
  save(state, into, merged, kept);
}
