// The pure runner lives with the engine (benchmarks use it too); tests import it from here.
export { PureRunner } from '../engine/pure-runner.ts';

import type { PureRunner as Runner } from '../engine/pure-runner.ts';

/** Applies every queued step but those of `type` (and what they would cause), leaving those queued. */
export function allBut(r: Runner, type: string): void {
  for (;;) {
    const i = r.queue.findIndex((e) => e.type !== type);
    if (i < 0) return;
    r.queue.unshift(...r.queue.splice(i, 1));
    r.step();
  }
}
