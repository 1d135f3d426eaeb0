// The store rewrite after an erasure (engine/store-rewrite.ts) survives kill -9 at each of its
// steps: a real process (test/fixtures/rewrite-crasher.ts) erases a customer while receipts of
// SKU Z keep coming, and kills itself with SIGKILL when the rewrite reaches the step (paused,
// part copied, copied, handles closed, new file renamed in, reopened). Then the data dir is opened
// again: every receipt acknowledged before the kill is there, the erasure is complete (its retry
// gets its first answer), and once the engine has started and closed, no erased record is left
// in the files (the start finds the rewrite's marker and rewrites before taking events; a
// half-made copy is deleted). Both engine layouts.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngineWithWorkers } from '../engine/mod.ts';
import { REWRITE_DIR, type RewriteStep } from '../engine/store-rewrite.ts';
import { bundle, type Bundle } from './bundle-harness.ts';
import { ann, bob, ids, inFiles, KEPT, liveRecordsHolding, outsideLiveRecords, texts } from './fixtures/erasure-history.ts';
import { tempDirs } from './fixtures/omni-process.ts';

const STEPS: RewriteStep[] = ['paused', 'copying', 'copied', 'closed', 'renamed', 'reopened'];
const dirs = tempDirs('omni-rewrite-crash-');
let crasher: Bundle;
beforeAll(async () => {
  crasher = await bundle({ 'rewrite-crasher': 'test/fixtures/rewrite-crasher.ts' });
  process.env.OMNI_ENGINE_THREAD_FILE = crasher.file('engine-thread');
}, 120_000);
afterAll(() => {
  dirs.cleanup();
  crasher?.remove();
});

function crash(dir: string, step: RewriteStep, workers: number): { acked: string[]; erased: unknown } {
  const run = spawnSync(process.execPath, [crasher.file('rewrite-crasher'), dir, step, String(workers)], { encoding: 'utf8', timeout: 60_000 });
  expect(run.signal, `${run.stdout}\n${run.stderr}`).toBe('SIGKILL');
  const lines = run.stdout.split('\n');
  const erased = lines.find((l) => l.startsWith('erased '));
  return { acked: lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)), erased: erased && JSON.parse(erased.slice(7)) };
}

describe.each([1, 2])('kill -9 during the store rewrite (%i engine thread(s))', (workers) => {
  it.each(STEPS)('at %s: acknowledged events kept, no erased record left after the next start', async (step) => {
    const dir = dirs.make();
    const { acked, erased } = crash(dir, step, workers);
    // The erasure's final batch commits before the rewrite begins; its answer was given at that commit.
    expect(erased).toMatchObject({ ok: true, erased: { ids: 4 } });
    const engine = await openEngineWithWorkers(workers, { path: dir, domains: {} });
    try {
      expect(existsSync(join(dir, REWRITE_DIR))).toBe(false);
      const stock = engine.snapshot('stock/Z')?.data as { total?: number; available?: number } | undefined;
      const held = acked.length === 0 ? 0 : (stock?.available ?? -1);
      expect(held).toBeGreaterThanOrEqual(acked.length);
      const [again] = await engine.submit([{ id: 'erase-ann', type: 'customer.erased', customer: ann.phone }]);
      expect(again).toEqual({ ...(erased as object), duplicate: true });
      expect(engine.read(`id/x/${ann.phone}`)).toBeUndefined();
      expect(engine.read(`id/x/${bob.phone}`)).toBeDefined();
    } finally {
      await engine.close();
    }
    for (const [text, n] of inFiles(dir, texts(ann))) expect(n, text).toBe(0);
    const live = await liveRecordsHolding(dir, ids(ann));
    for (const { where } of live) expect(KEPT.some((k) => k.test(where)), where).toBe(true);
    expect(outsideLiveRecords(dir, ids(ann), live)).toEqual([]);
  });
});
