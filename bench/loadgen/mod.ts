// `omni bench loadgen`: how reproducible `omni loadgen` is: the same run K times, each against a fresh
// `omni serve`, and how far each run strays from the median (repeat.ts).

import { defineBench } from '../shared/bench-def.ts';
import { LOADGEN_FLAGS, LOADGEN_HELP, loadgenHeadline, printDeviations, readLoadgenBenchOptions, runLoadgenBench } from './repeat.ts';

export const LOADGEN_BENCH = defineBench({
  title: 'loadgen: the same omni loadgen run K times, each against a fresh omni serve (reproducibility)',
  help: LOADGEN_HELP,
  flags: LOADGEN_FLAGS,
  read: readLoadgenBenchOptions,
  run: runLoadgenBench,
  headline: loadgenHeadline,
  conclude: printDeviations,
});
