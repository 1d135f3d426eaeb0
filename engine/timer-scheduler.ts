// Wakes the engine when the earliest durable timer comes due (the punctuator's clock): one
// real timer for the earliest `at`, re-armed whenever that changes. Tests drive time by hand
// instead (autoTimers false) and call Engine.runDueTimers.

import type { Clock } from './types.ts';

/** Node's setTimeout cannot wait longer than this. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class TimerScheduler {
  private handle: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly enabled: boolean,
    private readonly onDue: () => void,
  ) {}

  /** Makes sure a wake-up is set for `next` (the earliest pending timer), or none. */
  arm(next: number | undefined): void {
    if (!this.enabled || this.stopped || next === this.armedFor) return;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = next ?? Infinity;
    if (next === undefined) return;
    this.handle = setTimeout(() => {
      this.handle = undefined;
      this.armedFor = Infinity;
      this.onDue();
    }, Math.min(Math.max(0, next - this.clock.now()), MAX_DELAY_MS));
    // A pending reservation expiry must not keep a process alive that has nothing else to do.
    this.handle.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
  }
}
