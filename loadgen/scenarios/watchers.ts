// Who watches: storefront shoppers follow the totals of the SKUs they browse; in-store kiosks
// show what their own store has of a few featured SKUs. Both draw SKUs by the same popularity as
// the events, so the busy topics are the watched ones, as in a real shop.

import type { Site } from './geography.ts';
import { SHOPPER, type SubscriberPlan } from './source.ts';

/** Each shopper watches 1–5 distinct `stock/<sku>` topics. */
export function shopperPlans(count: number, popularSku: () => string, rand: () => number): SubscriberPlan[] {
  return Array.from({ length: count }, () => {
    const want = 1 + Math.floor(rand() * 5);
    const topics = new Set<string>();
    for (let tries = 0; topics.size < want && tries < want * 20; tries++) topics.add(`stock/${popularSku()}`);
    return { topics: [...topics], as: SHOPPER };
  });
}

/**
 * `count` kiosks, dealt round-robin over the stores (every store gets its first kiosk before any
 * gets a second); each shows 2–6 featured SKUs as `stock/<sku>@<its store>`.
 */
export function kioskPlans(stores: readonly Site[], count: number, featured: (n: number) => string[], rand: () => number): SubscriberPlan[] {
  return Array.from({ length: count }, (_, i) => {
    const store = stores[i % stores.length].id;
    const kiosk = `kiosk-${store}-${Math.floor(i / stores.length) + 1}`;
    const topics = featured(2 + Math.floor(rand() * 5)).map((sku) => `stock/${sku}@${store}`);
    return { topics, as: { role: 'kiosk', kiosk, store } };
  });
}
