// When store rewrites (store-rewrite.ts) run: one starts `delayMs` after the first batch asking
// for it, and batches asking while it waits share it. A request arriving while one runs gets
// another afterwards (with engine threads it is told of after the commit, which may have come
// after the copy was read). Counts and times them for the stats.

import type { StoreRewriteStats } from './types.ts';

export class RewriteSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Asked for since the running rewrite began: another one follows it. */
  private again = false;
  private waiters: Array<() => void> = [];
  private stopped = false;
  readonly stats: StoreRewriteStats = { count: 0, lastMs: 0, totalMs: 0 };

  constructor(
    private readonly delayMs: number,
    /** The rewrite itself: the engine paused, the copy made and swapped in, the engine resumed. */
    private readonly rewrite: () => Promise<void>,
    /** A rewrite failed: the engine stops (its store may be closed or stale). */
    private readonly failed: (error: Error) => void,
  ) {}

  /** A batch that asked for a rewrite is durable. */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => void this.run(), this.delayMs).unref();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.again = false;
    const started = performance.now();
    this.running = this.rewrite();
    try {
      await this.running;
      const ms = performance.now() - started;
      this.stats.count++;
      this.stats.lastMs = ms;
      this.stats.totalMs += ms;
    } catch (error) {
      this.stopped = true;
      this.failed(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.running = undefined;
    }
    if (this.again && !this.stopped) {
      this.again = false;
      this.timer = setTimeout(() => void this.run(), this.delayMs).unref();
      return;
    }
    if (this.timer === undefined) this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Whether a rewrite is waiting for its delay or running. */
  get busy(): boolean {
    return this.timer !== undefined || this.running !== undefined;
  }

  /** Resolves when no rewrite is waiting or running: every batch durable before this call is rewritten (or the engine stopped). */
  settled(): Promise<void> {
    if (!this.busy || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** At close: a rewrite waiting for its delay runs now; resolves once none is left. */
  async finish(): Promise<void> {
    while (this.busy && !this.stopped) {
      if (this.timer !== undefined && this.running === undefined) {
        clearTimeout(this.timer);
        await this.run();
      } else await this.running?.catch(() => undefined);
    }
    this.stopped = true;
    this.wake();
  }
}
