// Crash test of the sagas that span partitions: a process applying one of them is killed with
// SIGKILL after each step's commit (test/fixtures/saga-crasher.ts), and before the first, with
// the engine in its thread and with two engine threads sharing the partitions. Then,
// on the same data dir, the sender retries its event as a client whose request got no answer.
// Every time: the retry gets the answer an uncrashed run gives (all lines held, or none), the
// stock of every SKU ends as in that run (nothing left held by a refused order, nothing held
// twice), and no derived event is left in the outbox.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngineWithWorkers, type Engine, type EventResult, type ThreadedEngine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { lmdbOptions } from '../engine/store.ts';
import { PARTITIONS, SCENARIOS, SKU_A, SKU_B, SKU_C, type Scenario } from './fixtures/saga-scenarios.ts';

const ROOT = join(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'omni-saga-crash-'));
  dirs.push(d);
  return d;
};

const open = (dir: string, workers = 1) => openEngineWithWorkers(workers, { path: dir, domains: {}, partitions: PARTITIONS });

/** What must come out the same: the answer (its clock-made expiry aside) and every SKU's stock. */
async function outcome(engine: Engine | ThreadedEngine, answer: EventResult) {
  await engine.idle();
  const { duplicate: _d, ...rest } = answer as EventResult & { duplicate?: true };
  if ('expiresAt' in rest) rest.expiresAt = 'a time';
  return {
    answer: rest,
    stock: [SKU_A, SKU_B, SKU_C].map((sku) => engine.snapshot(`stock/${sku}`)?.data),
  };
}

function outboxSize(dir: string): number {
  const env = openLmdb(lmdbOptions({ path: dir }));
  try {
    return env.openDB({ name: 'outbox' }).getCount();
  } finally {
    void env.close();
  }
}

function crash(dir: string, scenario: string, killAfter: number, workers: number): { killed: boolean; steps?: number } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'fixtures', 'saga-crasher.ts'), dir, scenario, String(killAfter), String(workers)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.signal === 'SIGKILL') return { killed: true };
  if (run.status !== 0) throw new Error(`saga-crasher failed (${run.status} ${run.signal}): ${run.stderr}`);
  return { killed: false, steps: Number(/steps (\d+)/.exec(run.stdout)?.[1]) };
}

describe('a saga killed at each step', () => {
  it('spans partitions: its SKUs, orders and reservation each on their own', () => {
    const ps = [SKU_A, SKU_B, SKU_C].map((k) => partitionOf(k, PARTITIONS));
    expect(new Set(ps).size).toBe(3);
  });

  for (const [name, scenario] of Object.entries(SCENARIOS) as Array<[string, Scenario]>) for (const workers of [1, 2]) {
    it(`${name}, --workers ${workers}: all or nothing, the first answer, nothing left held`, async () => {
      // The run nobody kills, in this process.
      const refDir = freshDir();
      const ref = await open(refDir);
      expect((await ref.submit(scenario.setup)).filter((r) => !r.ok)).toEqual([]);
      const expected = await outcome(ref, (await ref.submit([scenario.saga]))[0]);
      await ref.close();

      const { killed, steps } = crash(freshDir(), name, Number.MAX_SAFE_INTEGER, workers);
      expect(killed).toBe(false);
      // At least the event's own commit and a step on another partition (batches of both threads counted).
      expect(steps).toBeGreaterThanOrEqual(2);

      for (let k = 0; k <= steps!; k++) {
        const dir = freshDir();
        // With two engine threads the steps' batches may fall differently from run to run: each
        // cut is still a state a crash can leave.
        const cut = crash(dir, name, k, workers);
        // (With two threads a run may take a batch fewer than the one that counted them.)
        if (workers === 1 || k < steps!) expect(cut.killed, `killed after commit ${k}`).toBe(true);
        const engine = await open(dir, workers);
        try {
          const [retry] = await engine.submit([scenario.saga]);
          // Sent before the kill and committed (k ≥ 1): the retry is answered as the same event.
          // (With two threads the first commit may be another thread's step.)
          if (k >= 1 && workers === 1) expect(retry.duplicate, `after commit ${k}`).toBe(true);
          expect(await outcome(engine, retry), `after commit ${k} of ${steps}`).toEqual(expected);
        } finally {
          await engine.close();
        }
        expect(outboxSize(dir), `outbox after commit ${k}`).toBe(0);
      }
    });
  }
});
