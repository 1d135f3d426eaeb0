// The data dir's committed state, read from another thread than the one that writes it (the
// gateway's thread, while the engine runs on its own: threaded-engine.ts). LMDB lets every
// thread of a process share one environment; a reader sees the commits made before its read
// snapshot was last refreshed, so it is refreshed whenever the writer reports a commit.
// Nothing is cached here: a cached value could be older than a commit the reader was told of.

import { open, type Database, type RootDatabase } from 'lmdb';
import { lmdbOptions, MAX_KEY_CHARS, stateStats } from './store.ts';
import type { StateView } from './types.ts';

export class CommittedReader {
  private readonly root: RootDatabase;
  private readonly state: Database<unknown, string>;

  constructor(options: Parameters<typeof lmdbOptions>[0]) {
    this.root = open(lmdbOptions(options));
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
