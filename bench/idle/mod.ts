// `omni bench idle-conns`: `omni serve` memory per idle WebSocket connection, with one subscription and
// with none (idle-connections.ts; inspector-gc.ts forces a full collection before each reading).

import { defineBench } from '../shared/bench-def.ts';
import { IDLE_FLAGS, IDLE_HELP, idleHeadline, readIdleOptions, runIdleBench } from './idle-connections.ts';

export const IDLE_BENCH = defineBench({
  title: 'idle-conns: omni serve memory (ΔRSS) per idle WebSocket connection, with one subscription and with none',
  help: IDLE_HELP,
  flags: IDLE_FLAGS,
  read: readIdleOptions,
  run: runIdleBench,
  headline: idleHeadline,
});
