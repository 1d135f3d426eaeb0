// When the server rewrites its store after the erasure, seen from outside: the copy is built in
// `<data dir>/scrub.tmp/` and then renamed over `data.mdb` (engine/store-rewrite.ts), so the
// directory appearing marks the copy under way and data.mdb's new inode marks it swapped in.
// Polled, so each time is late by up to a poll; the engine's own duration comes from /metrics
// where the server has it.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { epochMs } from '../../loadgen/mod.ts';

/** The rewrite's copy directory (engine/store-rewrite.ts, REWRITE_DIR). */
const COPY_DIR = 'scrub.tmp';
const POLL_MS = 5;

export interface RewriteSeen {
  /** The copy directory first seen (epoch ms); undefined when the whole rewrite fell between two polls. */
  copyingAtMs?: number;
  /** data.mdb seen replaced (epoch ms). */
  swappedAtMs: number;
}

export class RewriteWatch {
  private readonly inode: number;
  private copyingAtMs: number | undefined;
  private stopped = false;
  readonly seen: Promise<RewriteSeen | undefined>;

  /** `giveUp` resolves when no rewrite will come any more unless one has been seen starting by then. */
  constructor(
    private readonly dir: string,
    giveUp: Promise<void>,
  ) {
    this.inode = statSync(join(dir, 'data.mdb')).ino;
    let quiet = false;
    void giveUp.then(() => (quiet = true));
    this.seen = new Promise((resolve) => {
      const poll = () => {
        if (this.stopped) return resolve(undefined);
        const now = epochMs();
        if (this.copyingAtMs === undefined && existsSync(join(this.dir, COPY_DIR))) this.copyingAtMs = now;
        // Between the rename and the next start the name may briefly be missing on some file systems.
        const ino = statSync(join(this.dir, 'data.mdb'), { throwIfNoEntry: false })?.ino;
        if (ino !== undefined && ino !== this.inode) return resolve({ copyingAtMs: this.copyingAtMs, swappedAtMs: now });
        if (quiet && this.copyingAtMs === undefined) return resolve(undefined);
        setTimeout(poll, POLL_MS);
      };
      poll();
    });
  }

  stop(): void {
    this.stopped = true;
  }
}
