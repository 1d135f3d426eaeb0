// What a store's associates learn when a kiosk there identifies a shopper: who it is (contact
// ids masked), its tier, the orders waiting for it at this store, and what the kiosk shows it.
// The kiosk partition builds it from what it can read and hands it to the stock domain as a
// `store.notice`, whose partition publishes it on the store's event topic `store/<location>`.

import type { InputEvent, StateView } from '../types.ts';
import type { Order } from '../stock/mod.ts';
import { stockKeys } from '../stock/mod.ts';
import { customerRecord, resolveCustomer } from './identity/mod.ts';
import { maskId } from './masking.ts';
import { recentOrders } from './orders.ts';
import type { KioskDisplay, OrderSummary } from './types.ts';

/** Ids shown per shopper: the notice stays a small message. */
const IDS_SHOWN = 20;
/** Lines shown per waiting order: its full record is on `order/<id>`. */
const LINES_SHOWN = 20;
/** Statuses of a pickup order still waiting to be collected. */
const WAITING = new Set(['placed', 'ready']);

export interface PickupWaiting {
  order: string;
  status: string;
  lines: Array<{ sku: string; qty: number }>;
}

export interface ShopperContext {
  customer: string;
  ids: string[];
  tier: 'standard' | 'vip';
  pickups: PickupWaiting[];
  recommendations: KioskDisplay['items'];
}

/** The stock domain's internal event that publishes `notice` on `store/<location>`. */
export interface StoreNoticeEvent extends InputEvent {
  type: 'store.notice';
  location: string;
  notice: { type: 'shopper'; kiosk: string; customer: ShopperContext };
}

/**
 * An order summary still waiting at `location`, with its status as the order itself has it now
 * (the summary knows no `ready`, nor an expiry); the summary alone where the order is not
 * readable here.
 */
function waitingAt(view: StateView, summary: OrderSummary, location: string): PickupWaiting | undefined {
  if (summary.pickup !== location) return undefined;
  const order = view.get<Order>(stockKeys.order(summary.order));
  const status: string = order?.status ?? summary.status;
  if (!WAITING.has(status)) return undefined;
  const lines = (order?.lines ?? summary.lines).slice(0, LINES_SHOWN).map((l) => ({ sku: l.sku, qty: l.qty }));
  return { order: summary.order, status, lines };
}

/** The orders of `names` (a customer's names, its state possibly still under either) waiting at `location`, newest first. */
function pickupsAt(view: StateView, names: readonly string[], location: string): PickupWaiting[] {
  const seen = new Set<string>();
  const out: PickupWaiting[] = [];
  for (const name of names) {
    for (const summary of recentOrders(view, name)) {
      if (seen.has(summary.order)) continue;
      seen.add(summary.order);
      const waiting = waitingAt(view, summary, location);
      if (waiting !== undefined) out.push(waiting);
    }
  }
  return out;
}

/**
 * The shopper context for `customer` (the name whose partition keeps its state) identified at
 * `kiosk` of store `location`, shown `items`. Its contact ids, and a name that is one, are masked.
 */
export function shopperContext(view: StateView, customer: string, location: string, items: KioskDisplay['items']): ShopperContext {
  const resolved = resolveCustomer(view, customer) ?? customer;
  const record = customerRecord(view, resolved);
  const names = resolved === customer ? [customer] : [customer, resolved];
  return {
    customer: maskId(resolved),
    ids: (record?.ids ?? [resolved]).slice(0, IDS_SHOWN).map(maskId),
    tier: record?.tier ?? 'standard',
    pickups: pickupsAt(view, names, location),
    recommendations: items,
  };
}

export function shopperNotice(view: StateView, cause: string, kiosk: string, customer: string, location: string, items: KioskDisplay['items']): StoreNoticeEvent {
  return {
    id: `${cause}/shopper`,
    type: 'store.notice',
    location,
    notice: { type: 'shopper', kiosk, customer: shopperContext(view, customer, location, items) },
  };
}
