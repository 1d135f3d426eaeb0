// `omni bench lmdb-layout`: N threads making their own partitions' events durable — an LMDB
// environment per thread, one shared by all, or one written by a single writer thread
// (layouts.ts drives and reports, partition-thread.ts is each thread).

import { defineBench } from '../shared/bench-def.ts';
import { LAYOUT_FLAGS, LAYOUT_HELP, layoutConclusion, layoutHeadline, readLayoutOptions, runLayoutBench } from './layouts.ts';

export const LMDB_LAYOUT_BENCH = defineBench({
  title: 'lmdb-layout: N threads, fsync — an environment per thread, one shared, or one writer thread',
  help: LAYOUT_HELP,
  flags: LAYOUT_FLAGS,
  read: readLayoutOptions,
  run: runLayoutBench,
  headline: layoutHeadline,
  conclude: layoutConclusion,
});
