// An engine's part in store rewrites (store-rewrite.ts): the marker in the commit of a batch that
// asked for one (Effects.scrub), the rewrite itself when this engine is the data dir's only one,
// and its steps when the thread that started it runs the rewrite (threaded-rewrite.ts).

import { RewriteSchedule } from './rewrite-schedule.ts';
import { checkGeneration, removeUnfinishedRewrite, rewriteOpenStore, rewritePending, scrubMarkerKey } from './store-rewrite.ts';
import type { StateStore } from './store.ts';
import type { EngineOptions, StoreRewriteStats } from './types.ts';

export interface RewriteHost {
  /** Starts no more batches; resolves once none is being applied or committed. */
  pause(): Promise<void>;
  resume(): void;
  fail(error: Error): void;
  failed(): boolean;
}

export class EngineRewrites {
  private readonly enabled: boolean;
  /** This engine's own rewrites; with engine threads the starting thread runs them (onScrub). */
  private readonly schedule: RewriteSchedule | undefined;
  private listener: (() => void) | undefined;
  /** The erased values of the batches marked since the last rewrite: each marker holds them all (store-rewrite.ts). */
  private readonly erasedValues = new Set<string>();

  constructor(
    private readonly store: StateStore,
    private readonly options: EngineOptions,
    private readonly host: RewriteHost,
  ) {
    this.enabled = options.rewriteAfterErasure !== false;
    if (this.enabled && !options.share) this.schedule = new RewriteSchedule(options.scrubDelayMs ?? 0, () => this.rewrite(), (error) => host.fail(error));
  }

  /** Before anything is read: a rewrite killed before its rename, or one a committed batch asked for and never got. */
  async atStart(): Promise<void> {
    // With engine threads, the starting thread did this before any of them opened the store.
    if (this.options.share) return;
    removeUnfinishedRewrite(this.options.path);
    if (rewritePending(this.store.root)) await rewriteOpenStore(this.store, this.options);
  }

  /** In the commit of a batch that asked for a rewrite: a crash before it ends leaves it for the next start. */
  mark(scrub: boolean | undefined, values: readonly string[] = []): void {
    if (!scrub || !this.enabled) return;
    for (const v of values) this.erasedValues.add(v);
    this.store.state.put(scrubMarkerKey(this.options.share?.slot ?? 0), this.erasedValues.size > 0 ? [...this.erasedValues] : true);
  }

  /** That batch is durable. */
  committed(scrub: boolean | undefined): void {
    if (!scrub || !this.enabled) return;
    if (this.listener) this.listener();
    else this.schedule?.request();
  }

  onScrub(listener: () => void): void {
    this.listener = listener;
  }

  settled(): Promise<void> {
    return this.schedule?.settled() ?? Promise.resolve();
  }

  /** At close: one asked for and not run yet runs now, so a clean close leaves no erased data in the files. */
  finish(): Promise<void> {
    return this.schedule?.finish() ?? Promise.resolve();
  }

  stats(): StoreRewriteStats | undefined {
    return this.schedule && { ...this.schedule.stats };
  }

  private async rewrite(): Promise<void> {
    await this.host.pause();
    if (this.host.failed()) return;
    await rewriteOpenStore(this.store, this.options);
    this.erasedValues.clear();
    this.host.resume();
  }

  /** A rewrite run by the thread that started this engine's (threaded-rewrite.ts), step by step. */
  readonly steps = {
    pause: (): Promise<void> => this.host.pause(),
    close: (): Promise<void> => this.store.close(),
    reopen: (generation: string): void => {
      this.store.reopen();
      checkGeneration((key) => this.store.state.get(key), generation, this.options.path);
      this.erasedValues.clear();
      this.host.resume();
    },
  };
}
