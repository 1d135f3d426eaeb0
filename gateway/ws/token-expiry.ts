// A WebSocket lives longer than the token that opened it; what the token allowed must end with
// it. Like Centrifugo, a connection is closed when its token's `exp` passes (close code 4001);
// the client reconnects with a fresh token and resumes its topics with `since`.
//
// One sweep a second over the connections that have an expiry, instead of a timer each: a timer
// with its closures costs several hundred bytes per idle connection, a map entry a few dozen,
// and `exp` has one-second granularity anyway.

export interface Expiring {
  /** Closes the connection because its token expired. */
  expire(): void;
}

export const SWEEP_MS = 1000;

export class TokenExpiries<T extends Expiring = Expiring> {
  readonly #atMs = new Map<T, number>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#atMs.size;
  }

  /** Expires `conn` once `atMs` (epoch ms) has passed: at once if it already has, else within a sweep after. */
  add(conn: T, atMs: number): void {
    if (atMs <= this.now()) return conn.expire();
    this.#atMs.set(conn, atMs);
    if (this.#sweeper === undefined) {
      this.#sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      // The connections keep the process alive, not their expiry.
      this.#sweeper.unref();
    }
  }

  delete(conn: T): void {
    this.#atMs.delete(conn);
    if (this.#atMs.size === 0) this.stop();
  }

  sweep(): void {
    const now = this.now();
    for (const [conn, atMs] of this.#atMs) {
      if (atMs > now) continue;
      this.#atMs.delete(conn);
      conn.expire();
    }
    if (this.#atMs.size === 0) this.stop();
  }

  stop(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
