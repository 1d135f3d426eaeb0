// `omni bench loyalty`: loyalty.redeemed on omnistream against the same check-and-decrement in
// real PostgreSQL and Redis servers at the same durability tier, on a contended and a spread
// workload (compare.ts: flags, schedule, report; one target file each, the redemption sequences,
// ledger and balance check in workload.ts, the closed loop in driver.ts).

import { defineBench } from '../shared/bench-def.ts';
import { LOYALTY_FLAGS, LOYALTY_HELP, loyaltyHeadline, loyaltyMedianRatios, readLoyaltyOptions, runLoyaltyBench } from './compare.ts';

export const LOYALTY_BENCH = defineBench({
  title: 'loyalty: point redemptions on omnistream vs PostgreSQL vs Redis, contended and spread, same durability tier',
  help: LOYALTY_HELP,
  flags: LOYALTY_FLAGS,
  read: readLoyaltyOptions,
  run: runLoyaltyBench,
  headline: loyaltyHeadline,
  derived: loyaltyMedianRatios,
});
