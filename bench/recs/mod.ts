// `omni bench recs`: session recommendations through the engine: HR@20 / MRR@20 on real YooChoose
// sessions, ingest with the update, query latency (engine-level.ts; eval.ts reads and scores the
// sessions; tune.ts runs the recommender alone in memory, `npx tsx bench/recs/tune.ts`).

import { defineBench } from '../shared/bench-def.ts';
import { RECS_FLAGS, RECS_HELP, readRecsOptions, recsHeadline, runRecsBench } from './engine-level.ts';

export { SAMPLE_DIR } from './engine-level.ts';

export const RECS_BENCH = defineBench({
  title: 'recs: session recommendations through the engine — HR@20 / MRR@20 on real sessions, ingest with the update, query latency',
  help: RECS_HELP,
  flags: RECS_FLAGS,
  read: readRecsOptions,
  run: runRecsBench,
  headline: recsHeadline,
});
