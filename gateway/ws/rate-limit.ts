// A token bucket per connection: `rate` ops per second sustained, `burst` at once. Refilled
// lazily from the clock on each take, so an idle connection costs no timer.

/** Shared by every bucket: a default closure per bucket would cost each idle connection its bytes. */
const monotonicMs = (): number => performance.now();

export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = monotonicMs,
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one token; false when the bucket is empty (the op is refused). */
  take(): boolean {
    const now = this.now();
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
