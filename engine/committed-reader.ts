// The data dir's committed state, read from another thread than the one that writes it (the
// gateway's thread, while the engine runs on its own: threaded-engine.ts). LMDB lets every
// thread of a process share one environment; a reader sees the commits made before its read
// snapshot was last refreshed, so it is refreshed whenever the writer reports a commit.
// Nothing is cached here: a cached value could be older than a commit the reader was told of.

import { open, type Database, type RootDatabase } from 'lmdb';
import { lmdbOptions, MAX_KEY_CHARS, stateStats } from './store.ts';
import type { StateView } from './types.ts';

export class CommittedReader {
  // Not readonly: a store rewrite (threaded-rewrite.ts) reopens them on the new file.
  root!: RootDatabase;
  private state!: Database<unknown, string>;

  constructor(private readonly options: Parameters<typeof lmdbOptions>[0]) {
    this.reopen();
  }

  /** Opens the data dir's file (again, after a store rewrite closed this reader and replaced the file). */
  reopen(): void {
    this.root = open(lmdbOptions(this.options));
    this.state = this.root.openDB<unknown, string>({ name: 'state' });
  }

  readonly view: StateView = {
    get: <T>(key: string): T | undefined => (key.length > MAX_KEY_CHARS ? undefined : (this.state.get(key) as T | undefined)),
  };

  /** Sees every commit made until now. */
  refresh(): void {
    this.root.resetReadTxn();
  }

  stats(): { entries: number; bytes: number } {
    return stateStats(this.root, this.state);
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
