// The lmdb-layout bench (bench/lmdb-layout/): every layout, with more than one thread, makes
// events durable and reports them, and what it reports adds up — every event a thread applied is
// in LMDB exactly once afterwards (its record's version counts it, its dedup entry exists), and
// the measured window counts no more than that. No timing is asserted: on a busy machine a window
// may see no commit at all, so its rates are only checked to be figures.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLayoutOptions, type LayoutOptions } from '../bench/lmdb-layout/layouts.ts';
import { UsageError } from '../bench/shared/flags.ts';
import { bundle, type Bundle } from './bundle-harness.ts';

/**
 * The bench bundled once (bundle-harness.ts), its thread file next to it as the compiled build
 * has it: each of the runs' threads then loads plain JavaScript, instead of compiling the bench
 * and the engine modules it uses through tsx again (most of the file's time).
 */
let bench: Bundle;
let measureLayout: typeof import('../bench/lmdb-layout/layouts.ts').measureLayout;
beforeAll(async () => {
  bench = await bundle({ layouts: 'bench/lmdb-layout/layouts.ts', 'partition-thread': 'bench/lmdb-layout/partition-thread.ts' });
  ({ measureLayout } = await bench.load<typeof import('../bench/lmdb-layout/layouts.ts')>('layouts'));
});
afterAll(() => bench?.remove());

const quick: LayoutOptions = { seconds: 1, warmupSeconds: 0.2, threads: [2], layouts: ['A', 'B', 'C'], keys: 500, maxBatch: 2000, rate: 0 };

describe('omni bench lmdb-layout', () => {
  for (const layout of ['A', 'B', 'C'] as const) {
    it(`layout ${layout} with 2 threads: events made durable, counted once each`, async () => {
      const r = await measureLayout(layout, 2, quick);
      for (const figure of [r.eventsPerS, r.commitsPerS, r.applyUsPerEvent, r.writerUsPerEvent]) expect(Number.isFinite(figure) && figure >= 0).toBe(true);
      if (r.eventsPerS > 0) expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      // Only layout C has a writer thread whose time is measured.
      if (layout !== 'C') expect(r.writerUsPerEvent).toBe(0);
      // Every applied event is in LMDB once: one version increment and one dedup entry each.
      expect(r.applied).toBeGreaterThan(0);
      expect(r.storedVersions).toBe(r.applied);
      expect(r.storedDedup).toBe(r.applied);
      // The window's events are a part of those (rate × window ≤ all applied).
      expect(r.eventsPerS * quick.seconds).toBeLessThanOrEqual(r.applied * 1.1);
      expect(r.recordBytes).toBeGreaterThan(250);
    }, 30_000);
  }

  it('at a fixed rate, layout C with 2 threads: applies no more than offered, every event durable once', async () => {
    const r = await measureLayout('C', 2, { ...quick, rate: 2000 });
    expect(r.storedVersions).toBe(r.applied);
    expect(r.storedDedup).toBe(r.applied);
    // Offered 2,000/s over the warm-up and the window (plus the messages between them).
    expect(r.applied).toBeGreaterThan(0);
    expect(r.applied).toBeLessThanOrEqual(2000 * (quick.seconds + quick.warmupSeconds) + 500);
  }, 30_000);

  it('reads its flags and refuses layouts and thread counts it does not have', () => {
    const o = readLayoutOptions(['--threads', '1,2,4', '--layouts', 'c,a', '--seconds', '2']);
    if (o === 'help') throw new Error('no flag asked for help');
    expect([o.threads, o.layouts, o.seconds, o.keys, o.maxBatch]).toEqual([[1, 2, 4], ['C', 'A'], 2, 10_000, 20_000]);
    expect(() => readLayoutOptions(['--layouts', 'A,D'])).toThrow(UsageError);
    expect(() => readLayoutOptions(['--threads', '0'])).toThrow(UsageError);
  });
});
