// How long an fdatasync takes right now, on the disk the servers' temp dirs are on. The durable
// tier is bound by it, and on a shared machine other people's benchmarks fsync the same disk:
// measured next to each result, it says whether a slow durable figure was the disk's doing.

import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './report.ts';

/** Median ms of `4 KiB write + fdatasync`, repeated for about `ms` (at least 5 times). */
export function fdatasyncMs(ms = 300, dir = tmpdir()): number {
  const path = join(dir, `omni-bench-fsync-probe-${process.pid}`);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 1);
  const samples: number[] = [];
  try {
    const end = performance.now() + ms;
    while (samples.length < 5 || performance.now() < end) {
      const t = performance.now();
      writeSync(fd, block, 0, block.length, 0);
      fdatasyncSync(fd);
      samples.push(performance.now() - t);
      if (samples.length >= 1000) break;
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return median(samples);
}
