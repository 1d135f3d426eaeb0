// Who watches: storefront shoppers follow the totals of the SKUs they browse; signed-in members
// in the app also watch their own recommendations; in-store kiosks show their screen (the
// recommendations of whoever identified there last) and what their own store has of a few
// featured SKUs. SKUs are drawn by the same popularity as the events, and the members in the
// app are the most frequent visitors, so the busy topics are the watched ones, as in a real shop.

import type { Site } from './geography.ts';
import { SHOPPER, type SubscriberPlan } from './source.ts';

/** 1–5 distinct `stock/<sku>` topics (`most` caps the range), bounded in a tiny catalogue. */
function stockTopics(popularSku: () => string, rand: () => number, most = 5): string[] {
  const want = 1 + Math.floor(rand() * most);
  const topics = new Set<string>();
  for (let tries = 0; topics.size < want && tries < want * 20; tries++) topics.add(`stock/${popularSku()}`);
  return [...topics];
}

/** Each shopper watches 1–5 distinct `stock/<sku>` topics. */
export function shopperPlans(count: number, popularSku: () => string, rand: () => number): SubscriberPlan[] {
  return Array.from({ length: count }, () => ({ topics: stockTopics(popularSku, rand), as: SHOPPER }));
}

/**
 * `count` members in the app, each on `recs/<customer id>` (first, so it survives
 * --topics-per-subscriber 1) and 1–3 product pages' `stock/<sku>`. `member` names the next
 * member to watch (once all were named it may start again: a member on two devices), or
 * undefined when the population has none: that client is a plain shopper.
 */
export function recsPlans(count: number, member: () => string | undefined, popularSku: () => string, rand: () => number): SubscriberPlan[] {
  return Array.from({ length: count }, () => {
    const customer = member();
    const stock = stockTopics(popularSku, rand, 3);
    if (customer === undefined) return { topics: stock, as: SHOPPER };
    return { topics: [`recs/${customer}`, ...stock], as: { role: 'customer', customer } };
  });
}

/** The `n`-th kiosk (from 1) of a store: the same name for the events that address it and the client that shows it. */
export function kioskId(store: string, n: number): string {
  return `kiosk-${store}-${n}`;
}

/**
 * `count` kiosks, dealt round-robin over the stores (every store gets its first kiosk before any
 * gets a second); each shows its screen `kiosk/<id>` (first) and 2–6 featured SKUs as
 * `stock/<sku>@<its store>`.
 */
export function kioskPlans(stores: readonly Site[], count: number, featured: (n: number) => string[], rand: () => number): SubscriberPlan[] {
  return dealtOverStores(stores, count, (store, n) => {
    const kiosk = kioskId(store, n);
    const topics = featured(2 + Math.floor(rand() * 5)).map((sku) => `stock/${sku}@${store}`);
    return { topics: [`kiosk/${kiosk}`, ...topics], as: { role: 'kiosk', kiosk, store } };
  });
}

/** `count` plans dealt round-robin over the stores: `make(store, n)` for the store's n-th (from 1). */
function dealtOverStores(stores: readonly Site[], count: number, make: (store: string, n: number) => SubscriberPlan): SubscriberPlan[] {
  return Array.from({ length: count }, (_, i) => make(stores[i % stores.length].id, Math.floor(i / stores.length) + 1));
}

/** The `n`-th associate (from 1) of a store. */
export function associateId(store: string, n: number): string {
  return `staff-${store}-${n}`;
}

/**
 * `count` store associates, dealt round-robin over the stores like the kiosks; each follows its
 * store's notices `store/<store>` (first: pickups to prepare, expiries, returns brought in) and
 * 1–3 SKUs' stock at its store.
 */
export function associatePlans(stores: readonly Site[], count: number, featured: (n: number) => string[], rand: () => number): SubscriberPlan[] {
  return dealtOverStores(stores, count, (store, n) => {
    const staff = associateId(store, n);
    const topics = featured(1 + Math.floor(rand() * 3)).map((sku) => `stock/${sku}@${store}`);
    return { topics: [`store/${store}`, ...topics], as: { role: 'associate', staff, store } };
  });
}
