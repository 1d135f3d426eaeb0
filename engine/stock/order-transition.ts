// What every change to a placed order shares (order-lifecycle.ts, order-returns.ts): its shape,
// its refusals, and the history entry it adds.

import type { EventContext, EventError, FinalResult, InputEvent } from '../types.ts';
import type { StockChange } from './change.ts';
import type { StockSettings } from './outcomes.ts';
import type { Order, OrderStatus } from './types.ts';

/** What a change did to the order: the record now, and its answer (undefined while its SKUs act). */
export type Outcome = { order: Order; result: FinalResult | undefined } | { error: EventError };

/**
 * A change to a placed order with no saga under way. It checks everything before it emits
 * anything: a refused change may be one of several done in one step (runWaiting), whose
 * effects are kept.
 */
export type Transition = (c: StockChange, order: Order, ev: InputEvent, at: EventContext, s: StockSettings) => Outcome;

export const unknownOrder = (id: string): EventError => ({ code: 'unknown_order', message: `no order '${id}'` });

export function notAllowed(order: Order, ev: InputEvent, needs: string): { error: EventError } {
  const kind = order.pickup !== undefined ? 'a pickup order' : 'a ship order';
  return { error: { code: 'invalid_transition', message: `order '${order.id}' is ${order.status} (${kind}); ${ev.type} needs ${needs}` } };
}

export const statusAnswer = (order: Order): FinalResult => ({ ok: true, order: order.id, status: order.status });

/** The order in `status` from event time `at` (a ready order's hold ends with it). */
export function moved(order: Order, status: OrderStatus, at: number, where: { channel?: string; location?: string } = {}): Order {
  const { readyUntil: _gone, ...rest } = order;
  return { ...rest, status, history: [...(order.history ?? []), { status, at, ...where }] };
}

/** Lines of one SKU as one line: quantities added, the rest (a price) as the first gave it. */
export function mergeLines<L extends { sku: string; qty: number }>(lines: readonly L[]): L[] {
  const bySku = new Map<string, L>();
  for (const l of lines) {
    const had = bySku.get(l.sku);
    bySku.set(l.sku, had ? { ...had, qty: had.qty + l.qty } : { ...l });
  }
  return [...bySku.values()];
}
