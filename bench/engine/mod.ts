// `omni bench engine`: the engine alone, in-process: how many events a second it takes and how long
// submit → durable takes, per durability mode (throughput.ts; phase-profiler.ts and
// cpu-profile-summary.ts break a run down by where its time went).

import { defineBench } from '../shared/bench-def.ts';
import { ENGINE_FLAGS, ENGINE_HELP, engineHeadline, engineRatios, readEngineOptions, runEngineBench } from './throughput.ts';

export const ENGINE_BENCH = defineBench({
  title: 'engine: max events/s and submit→durable latency, in-process',
  help: ENGINE_HELP,
  flags: ENGINE_FLAGS,
  read: readEngineOptions,
  run: runEngineBench,
  headline: engineHeadline,
  derived: engineRatios,
});
