// The benches' --workers A/B: which thread counts they accept, the order they alternate in, the
// engine each count opens, and the per-thread CPU they report (what the per-event costs in
// docs/benchmarks.md, "Every core", are read from).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readEngineOptions } from '../bench/engine/throughput.ts';
import { readFanoutOptions } from '../bench/push/fanout.ts';
import { openBenchEngine } from '../bench/shared/bench-engine.ts';
import { readWorkerList, rotated, UsageError } from '../bench/shared/flags.ts';
import { ThreadCpuMonitor, threadCosts } from '../bench/shared/thread-cpu.ts';
import { ThreadedEngine } from '../engine/mod.ts';
import { locationEvents } from '../loadgen/mod.ts';

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-workers-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('--workers lists', () => {
  it('takes 1 and 2, once each, and refuses counts the engine cannot use yet', () => {
    expect(readWorkerList('1,2', [1])).toEqual([1, 2]);
    expect(readWorkerList(' 2 , 2 ', [1])).toEqual([2]);
    expect(readWorkerList(undefined, [1])).toEqual([1]);
    expect(() => readWorkerList('1,3', [1])).toThrow(UsageError);
    expect(() => readWorkerList('', [1])).toThrow(UsageError);
  });

  it('alternates the variants run by run, so each comes first as often (1 2, 2 1, 1 2)', () => {
    expect([0, 1, 2].map((run) => rotated([1, 2], run))).toEqual([[1, 2], [2, 1], [1, 2]]);
  });

  it('reach the engine and fan-out benches (the fan-out one as --omni-workers: its --workers counts subscriber threads)', () => {
    const engine = readEngineOptions(['--workers', '1,2']);
    const fanout = readFanoutOptions(['--omni-workers', '2', '--workers', '1']);
    if (engine === 'help' || fanout === 'help') throw new Error('no flags asked for help');
    expect(engine.workers).toEqual([1, 2]);
    expect([fanout.omniWorkers, fanout.workers]).toEqual([[2], 1]);
    expect(() => readEngineOptions(['--workers', '4'])).toThrow(UsageError);
  });
});

describe('openBenchEngine', () => {
  it('opens two engine threads for 2, and refuses no-op rules there (they cannot cross)', async () => {
    const engine = await openBenchEngine({ path: freshDir(), durability: 'none', workers: 2 });
    try {
      expect(engine).toBeInstanceOf(ThreadedEngine);
      expect((engine as ThreadedEngine).layout().workers.map((w) => w.worker)).toEqual([0, 1]);
      const results = await engine.submit(locationEvents(2, 'bw'));
      expect(results.map((r) => r.ok)).toEqual([true, true]);
    } finally {
      await engine.close();
    }
    await expect(openBenchEngine({ path: freshDir(), durability: 'none', workers: 2, rules: 'noop' })).rejects.toThrow(UsageError);
  });
});

describe('ThreadCpuMonitor', () => {
  it("bills a busy main thread to 'main', busiest first, and gives its µs per event", () => {
    const monitor = new ThreadCpuMonitor();
    // 200 ms of this thread's own CPU time (not wall time: a crowded machine only stretches it),
    // far above the kernel's 10 ms accounting tick.
    const start = process.cpuUsage().user;
    while (process.cpuUsage().user - start < 200_000);
    const threads = monitor.stop();
    const main = threads.find((t) => t.name === 'main');
    expect(main).toBeDefined();
    expect(threads[0]).toBe(main);
    // 1,000 events a second at `main.cores` of a core: that many µs per event × 1,000.
    expect(threadCosts(threads, 1000).mainUsPerEvent).toBeCloseTo((main!.cores * 1e6) / 1000, 6);
  });
});
