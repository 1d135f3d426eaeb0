// `omni bench reservations`: reserve → commit/release on omnistream against real PostgreSQL and Redis
// servers at the same durability tier (compare.ts: flags, schedule, report; one target file each,
// the shared op sequences and ledger in workload.ts, the driver in driver.ts).

import { defineBench } from '../shared/bench-def.ts';
import { RESERVATIONS_FLAGS, RESERVATIONS_HELP, readReservationsOptions, reservationsHeadline, reservationsRatios, runReservationsBench } from './compare.ts';

export const RESERVATIONS_BENCH = defineBench({
  title: 'reservations: reserve → commit/release on omnistream vs PostgreSQL vs Redis, same durability tier',
  help: RESERVATIONS_HELP,
  flags: RESERVATIONS_FLAGS,
  read: readReservationsOptions,
  run: runReservationsBench,
  headline: reservationsHeadline,
  derived: reservationsRatios,
});
