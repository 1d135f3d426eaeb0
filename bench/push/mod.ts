// `omni bench fanout`: push fan-out, omnistream against a `ws` server and a
// Socket.IO server (peers/), with the loadgen's subscribers and ingest on each (fanout.ts,
// fanout-run.ts, fanout-targets.ts).

import { defineBench } from '../shared/bench-def.ts';
import { FANOUT_FLAGS, FANOUT_HELP, fanoutDerived, fanoutHeadline, readFanoutOptions, runFanoutBench } from './fanout.ts';

export const FANOUT_BENCH = defineBench({
  title: 'fanout: push fan-out, omnistream vs a ws server vs a Socket.IO server, same loadgen workload',
  help: FANOUT_HELP,
  flags: FANOUT_FLAGS,
  read: readFanoutOptions,
  run: runFanoutBench,
  headline: fanoutHeadline,
  derived: fanoutDerived,
});
