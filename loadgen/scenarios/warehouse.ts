// Warehouses: receipts from suppliers (whole cases) and replenishment transfers to the stores.
// Both follow popularity, so the SKUs that sell most are restocked most; at the default mix a
// little more arrives than the counters and checkouts take, so long runs do not run dry.

import { upTo, type RoleFactory } from './world.ts';

const TRANSFER_SHARE = 0.45;
const CASE = 12;

export const warehouseRole: RoleFactory = (world, rand) => {
  let transfers = 0;
  return {
    next(_n, id) {
      const from = world.geography.warehouse(rand).id;
      const sku = world.catalogue.popular(rand());
      if (rand() < TRANSFER_SHARE) {
        const to = world.geography.store(rand).id;
        return { id, type: 'stock.transfer', transfer: `${world.idPrefix}-t${transfers++}`, sku, from, to, qty: 5 + upTo(25, rand) };
      }
      return { id, type: 'stock.received', sku, location: from, qty: CASE * upTo(3, rand) };
    },
  };
};
