// `omni bench restart` and `omni bench startup`: how long a server takes to be ready: `omni serve` spawn → ready with a large
// data dir and an empty one (restart-time.ts), and `npm start` → listening from the JavaScript
// build and from the sources (startup-time.ts).

import { defineBench } from '../shared/bench-def.ts';
import { RESTART_FLAGS, RESTART_HELP, readRestartOptions, restartHeadline, runRestartBench } from './restart-time.ts';
import { STARTUP_FLAGS, STARTUP_HELP, readStartupOptions, runStartupBench, startupHeadline } from './startup-time.ts';

export const RESTART_BENCH = defineBench({
  title: 'restart: omni serve spawn → ready, with a large data dir and with an empty one',
  help: RESTART_HELP,
  flags: RESTART_FLAGS,
  read: readRestartOptions,
  run: runRestartBench,
  headline: restartHeadline,
});

export const STARTUP_BENCH = defineBench({
  title: 'startup: npm start → "omni listening on", from the JavaScript build (dist/) and from the sources through tsx',
  help: STARTUP_HELP,
  flags: STARTUP_FLAGS,
  read: readStartupOptions,
  run: runStartupBench,
  headline: startupHeadline,
});
