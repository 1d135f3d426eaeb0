// `omni bench micro`: tinybench micro-benchmarks of the hot paths one event goes through (hot-paths.ts).

import { defineBench } from '../shared/bench-def.ts';
import { MICRO_FLAGS, MICRO_HELP, microHeadline, readMicroOptions, runMicroBench } from './hot-paths.ts';

export const MICRO_BENCH = defineBench({
  title: 'micro: hot paths (tinybench)',
  help: MICRO_HELP,
  flags: MICRO_FLAGS,
  read: readMicroOptions,
  run: runMicroBench,
  headline: microHeadline,
});

// `omni bench kb`: matching a customer's text to a knowledge-base entry (kb-match.ts).
export { KB_BENCH } from './kb-match.ts';
