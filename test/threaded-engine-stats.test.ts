// ThreadedEngine.stats() (what /metrics reports) once traffic stops: the engine's thread sends
// its own figures at most every STATS_EVERY_MS, so the last batches of a burst must still reach
// them; here, by the time idle() resolves, as with the engine in this thread.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openThreadedEngine } from '../engine/mod.ts';
import { engineThreadFile } from './bundle-harness.ts';

// Engine threads start from engine-thread.ts bundled once (engine-thread-link.ts reads
// OMNI_ENGINE_THREAD_FILE), not compiled through tsx in each thread again.
beforeAll(async () => {
  process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
});

it('after a burst of batches, stats() counts every event and batch once the engine is idle', async () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'omni-threaded-stats-')), mkdtempSync(join(tmpdir(), 'omni-threaded-stats-'))];
  const threaded = await openThreadedEngine({ path: dirs[0], domains: {}, durability: 'none' });
  const local = await openEngine({ path: dirs[1], processors: defaultProcessors(), durability: 'none' });
  // Every batch each reported: the engine threads split the work (and derived events, such as
  // the customer domain following stock, take batches of their own), so the two counts differ.
  const reported = { threaded: 0, local: 0 };
  threaded.onBatch(() => reported.threaded++);
  local.onBatch(() => reported.local++);
  try {
    for (const engine of [threaded, local]) {
      // lowStock 0: no alert, whose derived event would make a batch of its own at a moment of its own.
      await engine.submit([{ id: 'l', type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 1, lowStock: 0 }]);
      // Five batches, each after the answer to the one before: all within a few milliseconds.
      for (let i = 0; i < 5; i++) await engine.submit([{ id: `r${i}`, type: 'stock.received', sku: 'A', location: 'S1', qty: 1 }]);
      await engine.idle();
    }
    expect(reported.local).toBeGreaterThanOrEqual(6);
    expect(local.stats().batches).toBe(reported.local);
    expect(reported.threaded).toBeGreaterThanOrEqual(6);
    expect(threaded.stats().batches).toBe(reported.threaded);
    expect(threaded.stats().eventsByTypeAndResult).toEqual(local.stats().eventsByTypeAndResult);
  } finally {
    await Promise.all([threaded.close(), local.close()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
