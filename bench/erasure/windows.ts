// The other traffic's ack latency around an erasure, in three windows. An event counts in
// "during" when the time from its due moment to its answer overlaps the erasure (from sending
// `customer.erased` to the end of the erasure, the store rewrite included): whatever waited on
// it. "Before" holds the events answered before it was sent, "after" those due once it was over.
// Events due in the warm-up count nowhere.

import { LatencyRecorder, type LatencyMs } from '../../loadgen/mod.ts';

export type WindowName = 'before' | 'during' | 'after';

export interface WindowFigures extends LatencyMs {
  /** Events answered ok:false (or in a failed request) in the window. */
  errors: number;
}

interface Answered {
  dueMs: number;
  answeredMs: number;
  ok: boolean;
}

export class ErasureWindows {
  /** Kept raw until the erasure's span is known; a few hundred thousand at most. */
  private readonly answers: Answered[] = [];

  constructor(private readonly countFromMs: number) {}

  record(dueMs: number, answeredMs: number, ok: boolean): void {
    if (dueMs >= this.countFromMs) this.answers.push({ dueMs, answeredMs, ok });
  }

  /** The three windows, for an erasure that ran from `startMs` to `endMs` (same clock as the events). */
  split(startMs: number, endMs: number): Record<WindowName, WindowFigures> {
    const recorders = { before: new LatencyRecorder(), during: new LatencyRecorder(), after: new LatencyRecorder() };
    const errors = { before: 0, during: 0, after: 0 };
    for (const a of this.answers) {
      const w: WindowName = a.answeredMs < startMs ? 'before' : a.dueMs > endMs ? 'after' : 'during';
      recorders[w].recordSince(a.dueMs, a.answeredMs);
      if (!a.ok) errors[w]++;
    }
    const figures = (w: WindowName): WindowFigures => ({ ...recorders[w].summary(), errors: errors[w] });
    return { before: figures('before'), during: figures('during'), after: figures('after') };
  }
}
