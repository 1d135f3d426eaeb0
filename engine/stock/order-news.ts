// What an order's steps tell others besides its answer: its topic, its store's associates
// (store.notice, published on `store/<location>`) and the commerce figures (commerce.counted,
// at most once per order and kind).

import type { CommerceCounted, NewsKind } from '../commerce/mod.ts';
import type { InputEvent } from '../types.ts';
import type { StockChange } from './change.ts';
import { keys, topics, type Order, type OrderRecord, type OrderSaga } from './types.ts';

/** The order record with its saga replaced (or ended, `undefined`). */
export function withSaga(order: OrderRecord, saga: OrderSaga | undefined): OrderRecord {
  const { saga: _previous, ...rest } = order;
  return saga ? { ...rest, saga } : rest;
}

/**
 * Writes the order; one that is placed (not placing) changes its `order/<id>` topic when what the
 * topic shows changed — a saga step that only ends the saga (the holds sold, the goods back) sends
 * its followers nothing new. Records are copied on write, so an unchanged part is the same object.
 */
export function writeOrder(c: StockChange, order: OrderRecord): void {
  const before = c.view.get<OrderRecord>(keys.order(order.id));
  c.put(keys.order(order.id), order);
  if (order.status === 'placing') return;
  const shown =
    !before ||
    before.status !== order.status ||
    before.lines !== order.lines ||
    before.history !== order.history ||
    before.returns !== order.returns ||
    before.allocation !== order.allocation ||
    before.readyUntil !== order.readyUntil;
  if (shown) c.touch(topics.order(order.id));
}

export interface StoreNoticeEvent extends InputEvent {
  type: 'store.notice';
  location: string;
  notice: Record<string, unknown>;
}

/** A notice to the associates of `location`: published by the partition of its topic (store.notice). */
export function noticeStore(c: StockChange, location: string, notice: Record<string, unknown>, cause: string): void {
  const ev: StoreNoticeEvent = { id: `${cause}/notice/${location}`, type: 'store.notice', location, notice };
  c.emit(ev);
}

/** Where an order counts as placed: its pickup store, else where its first line ships from. */
export const placedLocation = (order: OrderRecord): string => order.pickup ?? order.allocation[0]?.location ?? 'unknown';

/** Σ price × qty of `lines`, when every one of them has a price. */
export function priced(order: OrderRecord, lines: Array<{ sku: string; qty: number }>): number | undefined {
  let sum = 0;
  for (const l of lines) {
    const price = order.lines.find((o) => o.sku === l.sku)?.price;
    if (price === undefined) return undefined;
    sum += price * l.qty;
  }
  return sum;
}

/**
 * Sends the commerce news `kinds` of `order` not sent before (commerce.counted, owned by the
 * commerce processor) and returns the order noting them. Without `enabled` (no commerce
 * processor runs) nothing is sent: a derived event nobody declares would be refused.
 */
export function countCommerce(c: StockChange, order: Order, kinds: NewsKind[], at: number, cause: string, enabled: boolean): Order {
  const counted = order.counted ?? [];
  const fresh = kinds.filter((k) => !counted.includes(k));
  if (fresh.length === 0 || !enabled) return order;
  for (const kind of fresh) {
    const revenue = kind === 'placed' ? priced(order, order.lines) : undefined;
    const news: CommerceCounted = {
      id: `${cause}/commerce/${kind}`,
      type: 'commerce.counted',
      order: order.id,
      kind,
      placedAt: order.placedAt,
      channel: order.channel ?? 'unknown',
      location: placedLocation(order),
      pickup: order.pickup !== undefined,
      ...(revenue !== undefined ? { revenue } : {}),
      at,
    };
    c.emit(news);
  }
  return { ...order, counted: [...counted, ...fresh] };
}

/** Whether an order picked up or returned in `channel` at `location` crosses from where it was placed. */
export const crosses = (order: OrderRecord, channel: string, location: string): boolean =>
  channel !== (order.channel ?? 'unknown') || location !== placedLocation(order);
