// Reconnect delays: exponential growth capped at maxMs, with (by default full) jitter, so that
// thousands of clients dropped by one server restart do not all come back in the same instant.

import type { BackoffOptions } from './types.ts';

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 30_000, jitter: 1 };

export class Backoff {
  readonly options: BackoffOptions;
  #attempt = 0;

  constructor(
    options: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    const merged = { ...DEFAULT_BACKOFF, ...options };
    if (!(merged.initialMs >= 0) || !(merged.maxMs >= merged.initialMs)) {
      throw new RangeError(`backoff needs 0 ≤ initialMs ≤ maxMs (got ${merged.initialMs}, ${merged.maxMs})`);
    }
    const jitter = typeof merged.jitter === 'boolean' ? (merged.jitter ? 1 : 0) : merged.jitter;
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff jitter must be in [0, 1] (got ${merged.jitter})`);
    this.options = { ...merged, jitter };
  }

  /** Retries taken since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The cap for retry number `attempt` (1-based): initialMs · 2^(attempt−1), at most maxMs. */
  capFor(attempt: number): number {
    const { initialMs, maxMs } = this.options;
    // Math.min before the power would overflow to Infinity only after ~1000 attempts; clamp anyway.
    return Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 52));
  }

  /** Counts one more retry and returns how long to wait before it. */
  next(): number {
    this.#attempt += 1;
    const cap = this.capFor(this.#attempt);
    const jitter = this.options.jitter as number;
    // jitter 1: uniform in [0, cap] (AWS "full jitter"); 0: exactly cap; between: the top part random.
    return Math.round(cap * (1 - jitter) + cap * jitter * this.random());
  }

  /** After a successful connect the next failure starts small again. */
  reset(): void {
    this.#attempt = 0;
  }
}
