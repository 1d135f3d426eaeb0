// Store counters: sales at the till, and now and then a return brought back to the store.

import { type RoleFactory } from './world.ts';

const RETURN_SHARE = 0.12;
/** Most baskets hold one of an item, some two or three. */
const QTY = [1, 1, 1, 1, 1, 1, 2, 2, 3];

export const counterRole: RoleFactory = (world, rand) => ({
  next(_n, id) {
    const location = world.geography.store(rand).id;
    const sku = world.catalogue.popular(rand());
    if (rand() < RETURN_SHARE) return { id, type: 'stock.returned', sku, location, qty: 1, channel: 'store' };
    return { id, type: 'stock.sold', sku, location, qty: QTY[Math.floor(rand() * QTY.length)], channel: 'store' };
  },
});
