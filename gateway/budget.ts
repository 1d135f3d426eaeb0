// A configured total that admissions draw on: bytes of unfinished request bodies, WebSocket
// subscriptions, anonymous connections. Per-client caps bound what one client holds; a budget
// bounds what all of them hold together, so many cheap clients cannot add up to an outage.
// Whatever is admitted keeps working; only what cannot get budget is refused (and counted, for
// /metrics). Callers give back exactly what they took, once: the in-use figure going back to 0
// when every client has left is what the tests check.

export class Budget {
  #inUse = 0;
  #refusals = 0;

  constructor(
    /** Shown in errors and metrics, e.g. 'body_bytes'. */
    readonly name: string,
    readonly limit: number,
  ) {}

  get inUse(): number {
    return this.#inUse;
  }

  /** Admissions refused so far. */
  get refusals(): number {
    return this.#refusals;
  }

  /** Whether `amount` more fits; a refusal is counted when it does not. Takes nothing. */
  admits(amount: number): boolean {
    if (this.#inUse + amount <= this.limit) return true;
    this.#refusals++;
    return false;
  }

  /** Takes `amount` unconditionally: for an admission already checked with admits(). */
  take(amount: number): void {
    this.#inUse += amount;
  }

  /** admits() and take() in one: false (and nothing taken) when `amount` does not fit. */
  tryTake(amount: number): boolean {
    if (!this.admits(amount)) return false;
    this.#inUse += amount;
    return true;
  }

  release(amount: number): void {
    this.#inUse -= amount;
    // Giving back more than was taken is a bug in a caller; clamping would hide it from the
    // metrics, so it is reported, and the figure is kept from going negative.
    if (this.#inUse < 0) {
      console.error(`omni: budget ${this.name} released ${-this.#inUse} more than it held`);
      this.#inUse = 0;
    }
  }
}
