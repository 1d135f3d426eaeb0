// The open-loop schedule: event i of a run is due at start + i / rate, whatever happened to the
// events before it. A tick asks what became due since the last tick; a late tick gets more
// events, each still stamped with its own scheduled time, so a stall of the load generator or
// of the server shows up in the latencies instead of quietly lowering the offered load.

export class OpenLoopSchedule {
  /** Events in the whole run: rate × duration. */
  readonly total: number;
  private issued = 0;

  constructor(
    readonly startMs: number,
    readonly ratePerS: number,
    readonly durationS: number,
  ) {
    if (!(ratePerS > 0) || !(durationS > 0)) throw new Error('rate and duration must be positive');
    this.total = Math.floor(ratePerS * durationS);
  }

  /** When event `i` is due (epoch ms, fractional). */
  timeOf(i: number): number {
    return this.startMs + (i * 1000) / this.ratePerS;
  }

  /** How many events are due by `nowMs` in all (event i is due once timeOf(i) ≤ nowMs). */
  dueBy(nowMs: number): number {
    if (nowMs < this.startMs) return 0;
    let n = Math.floor(((nowMs - this.startMs) * this.ratePerS) / 1000) + 1;
    // Guard the floating-point edge: the count must agree with timeOf.
    while (n > 0 && this.timeOf(n - 1) > nowMs) n--;
    while (n < this.total && this.timeOf(n) <= nowMs) n++;
    return Math.min(this.total, n);
  }

  /** The events that became due since the previous call, as indices [from, to). */
  take(nowMs: number): { from: number; to: number } {
    const from = this.issued;
    this.issued = Math.max(from, this.dueBy(nowMs));
    return { from, to: this.issued };
  }

  /** Events handed out so far. */
  get taken(): number {
    return this.issued;
  }

  get done(): boolean {
    return this.issued >= this.total;
  }

  /** When the run's last event is due. */
  get lastMs(): number {
    return this.timeOf(Math.max(0, this.total - 1));
  }
}
