// The customer domain's state outside identity (identity/) and the recommender (recommender/):
// each customer's current session, its recent orders, and what each kiosk shows.

import type { IdentityOptions } from './identity/mod.ts';
import type { RecommenderOptions } from './recommender/mod.ts';
import type { OrderStatus } from '../stock/mod.ts';

export interface CustomerOptions {
  /** Event-time gap that ends a session (default 30 minutes, docs/protocol.md, section 3). */
  sessionGapMs?: number;
  /** Items pushed on `recs/<customer>` and `kiosk/<kiosk>` (default 20). */
  listSize?: number;
  /** Orders kept per customer for the service desk's 360 context (default 20). */
  ordersKept?: number;
  identity?: IdentityOptions;
  recommender?: RecommenderOptions;
  /** A balance of this many loyalty points makes its customer vip (loyalty.ts); unset: points never do. */
  vipPoints?: number;
}

export type ResolvedCustomerOptions = Required<Omit<CustomerOptions, 'identity' | 'recommender' | 'vipPoints'>> &
  Pick<CustomerOptions, 'identity' | 'recommender' | 'vipPoints'>;

export function resolveCustomerOptions(options: CustomerOptions = {}): ResolvedCustomerOptions {
  return {
    sessionGapMs: options.sessionGapMs ?? 30 * 60_000,
    listSize: options.listSize ?? 20,
    ordersKept: options.ordersKept ?? 20,
    identity: options.identity,
    recommender: options.recommender,
    vipPoints: options.vipPoints,
  };
}

/** A customer's current session: activities closer than the gap in event time. */
export interface SessionRecord {
  /** The recommender's session id. */
  id: string;
  /** Sessions this customer started so far (names the next one). */
  n: number;
  /** Event time of its first activity (the latest is read from its activity log). */
  start: number;
}

export interface OrderSummary {
  order: string;
  /** As the order's own record says (`fulfilled` in summaries kept before orders were shipped or completed). */
  status: OrderStatus | 'fulfilled';
  lines: Array<{ sku: string; qty: number }>;
  placedAt: number;
  pickup?: string;
}

/** What a kiosk shows now: the customer identified at it and the SKUs on its screen. */
export interface KioskDisplay {
  kiosk: string;
  customer: string;
  location: string;
  items: Array<{ sku: string; score: number }>;
  at: number;
}

/** Kiosks listed per customer at most: a shopper stands at one or two at a time. */
export const MAX_KIOSKS_OF_CUSTOMER = 16;
/** Kiosks per (sku, store) index entry at most: a store has a handful of kiosks. */
export const MAX_KIOSKS_SHOWING = 256;
/** Order lines kept in a summary. */
export const MAX_SUMMARY_LINES = 10;

export const keys = {
  session: (customer: string) => `cu/sess/${customer}`,
  orders: (customer: string) => `cu/orders/${customer}`,
  /** Ids of the customer's orders older than the kept summaries: only an erasure reads them (erasure.ts). */
  olderOrders: (customer: string) => `cu/ordersold/${customer}`,
  /** Where the state kept under this name went when it was merged into (or attached to) another customer. */
  moved: (name: string) => `cu/moved/${name}`,
  /** A link waiting for the state it moved (on the identity partition, as the link is). */
  linkWait: (link: string) => `id/wait/${link}`,
  kiosk: (kiosk: string) => `cu/kiosk/${kiosk}`,
  /** The kiosks showing a customer now (by the name its display holds), for the data-subject export. */
  kiosksOf: (customer: string) => `cu/kiosksof/${customer}`,
  /** The kiosks showing `sku` at `location` now (written as `<sku>@<location>`, like its stock topic). */
  showing: (skuAtLocation: string) => `cu/shown/${skuAtLocation}`,
  /** The stores where some kiosk shows `sku` now: a stock change of the SKU checks each. */
  shownAt: (sku: string) => `cu/shownat/${sku}`,
};

export const topics = {
  recs: (customer: string) => `recs/${customer}`,
  kiosk: (kiosk: string) => `kiosk/${kiosk}`,
};
