// `omni bench erasure`: what erasing a customer with a long history costs, and what it does to
// the other traffic meanwhile (erasure.ts: flags and report; measure.ts: one run against
// `omni serve`; history.ts: the events; windows.ts: the before / during / after latencies).

import { defineBench } from '../shared/bench-def.ts';
import { ERASURE_FLAGS, ERASURE_HELP, erasureHeadline, readErasureOptions, runErasureBench } from './erasure.ts';

export const ERASURE_BENCH = defineBench({
  title: 'erasure: customer.erased of a customer with a long history, beside other traffic over HTTP',
  help: ERASURE_HELP,
  flags: ERASURE_FLAGS,
  read: readErasureOptions,
  run: runErasureBench,
  headline: erasureHeadline,
});
