// Crash test of the sagas that span partitions: a process applying one of them is killed with
// SIGKILL after each step's commit (test/fixtures/saga-crasher.ts), and before the first, with
// the engine in its thread and with two engine threads sharing the partitions. Then,
// on the same data dir, the sender retries its event as a client whose request got no answer.
// Every time: the retry gets the answer an uncrashed run gives (all lines held, or none), the
// stock of every SKU ends as in that run (nothing left held by a refused order, nothing held
// twice), and no derived event is left in the outbox. The customer domain's sagas
// (fixtures/customer-saga-scenarios.ts: a link's moves, a linked id's forwarded activity) must
// also end with every customer, identity and recommender record as uncrashed — no move lost or
// applied twice, no session or orders left under a merged-away name, no link left waiting, an
// activity in its session's log and its item's index once — and the same lists; what that
// uncrashed run ends with is checked on its own below.
// With one engine thread every step is cut; with two, a sample of the steps (twoThreadCut below),
// as each cut there costs two thread starts and the one-thread run already covers every step.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEngineWithWorkers, type Engine, type EventResult, type ThreadedEngine } from '../engine/mod.ts';
import { IDENTITY_KEY } from '../engine/customers/partitioning.ts';
import { partitionOf } from '../engine/partitions.ts';
import { lmdbOptions } from '../engine/store.ts';
import { bundle, type Bundle } from './bundle-harness.ts';
import {
  CUSTOMER_SCENARIOS,
  DEVICE,
  LINKED_CUSTOMER,
  LINKED_DEVICE,
  MERGED,
  MERGED_EMAIL,
  ORDERS,
  SURVIVOR,
  T0,
  VIEWED,
} from './fixtures/customer-saga-scenarios.ts';
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

/**
 * Every cut starts a crasher process and then an engine on what it left: over a hundred engines
 * with their threads. Both are bundled once (bundle-harness.ts), so they load as plain JavaScript
 * instead of having every engine module compiled through tsx each time, in each process and
 * thread (most of the file's time). The run nobody kills keeps the engine as imported above.
 */
let crasher: Bundle;
let bundled: typeof import('../engine/mod.ts');
beforeAll(async () => {
  crasher = await bundle({ 'saga-crasher': 'test/fixtures/saga-crasher.ts', engine: 'engine/mod.ts' });
  bundled = await crasher.load('engine');
});
afterAll(() => crasher?.remove());

/** An engine on a crashed run's data dir: the bundled one (above). */
const reopen = (dir: string, workers: number) => bundled.openEngineWithWorkers(workers, { path: dir, domains: {}, partitions: PARTITIONS });
const open = (dir: string) => openEngineWithWorkers(1, { path: dir, domains: {}, partitions: PARTITIONS });

const ALL: Record<string, Scenario> = { ...SCENARIOS, ...CUSTOMER_SCENARIOS };

/** What must come out the same: the answer (its clock-made expiry aside), every SKU's stock, what the scenario observes. */
async function outcome(engine: Engine | ThreadedEngine, answer: EventResult, scenario: Scenario) {
  await engine.idle();
  const { duplicate: _d, ...rest } = answer as EventResult & { duplicate?: true };
  if ('expiresAt' in rest) rest.expiresAt = 'a time';
  return {
    answer: rest,
    stock: [SKU_A, SKU_B, SKU_C].map((sku) => engine.snapshot(`stock/${sku}`)?.data),
    observed: scenario.observe?.(engine),
  };
}

/** What a closed data dir keeps: derived events left in the outbox, and every state entry under `prefixes`. */
function stored(dir: string, prefixes: readonly string[] = []): { outbox: number; state: Record<string, unknown> } {
  const env = openLmdb(lmdbOptions({ path: dir }));
  try {
    const db = env.openDB<unknown, string>({ name: 'state' });
    const state: Record<string, unknown> = {};
    for (const prefix of prefixes) for (const { key, value } of db.getRange({ start: prefix, end: `${prefix}\uffff` })) state[key] = value;
    return { outbox: env.openDB({ name: 'outbox' }).getCount(), state };
  } finally {
    void env.close();
  }
}

/** The run nobody kills, in this process with the engine in its thread. */
async function uncrashed(scenario: Scenario) {
  const dir = freshDir();
  const ref = await open(dir);
  expect((await ref.submit(scenario.setup)).filter((r) => !r.ok)).toEqual([]);
  const expected = await outcome(ref, (await ref.submit([scenario.saga]))[0], scenario);
  await ref.close();
  const { outbox, state } = stored(dir, scenario.state);
  expect(outbox).toBe(0);
  return { ...expected, state };
}

/** A session log's SKUs (`i`) or an item index's inline sessions (`s`). */
const listed = (record: unknown, field: 'i' | 's') => (record as Record<string, string[]> | undefined)?.[field];

/**
 * The cuts taken with two engine threads: before the first commit, after the first, every third
 * after that, the last counted, and every one past the count until a run finishes. The same
 * scenario's one-thread test cuts after every commit; what two threads add (the steps' batches
 * falling on either thread, a recovery that starts both) shows at any of them.
 */
const twoThreadCut = (k: number, steps: number) => k <= 1 || k % 3 === 2 || k >= steps;

function crash(dir: string, scenario: string, killAfter: number, workers: number): { killed: boolean; steps?: number } {
  const run = spawnSync(process.execPath, [crasher.file('saga-crasher'), dir, scenario, String(killAfter), String(workers)], {
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

  it('spans partitions: each customer, device and the identities on their own', () => {
    for (const names of [[SURVIVOR, MERGED, DEVICE], [LINKED_CUSTOMER, LINKED_DEVICE]]) {
      expect(new Set([IDENTITY_KEY, ...names].map((k) => partitionOf(k, PARTITIONS))).size).toBe(names.length + 1);
    }
  });

  /** Each scenario's chain, counted by its uncut run on one engine thread (the --workers 1 test's). */
  const chains = new Map<string, number>();
  for (const [name, scenario] of Object.entries(ALL)) for (const workers of [1, 2]) {
    it(`${name}, --workers ${workers}: all or nothing, the first answer, nothing left held`, async () => {
      const { state: expectedState, ...expected } = await uncrashed(scenario);

      const { killed, steps } = crash(freshDir(), name, Number.MAX_SAFE_INTEGER, workers);
      expect(killed).toBe(false);
      // At least the event's own commit and a step on another partition (batches of both threads counted).
      expect(steps).toBeGreaterThanOrEqual(2);
      // With two threads the steps' batches may fall differently from run to run (the merge takes
      // 8 to 10): a cut run may finish first, or take more (cut on until one finishes). Never
      // before the saga's chain of steps, one batch each, is done: one engine thread counts that
      // chain, as each of its batches holds all that the step before sent.
      if (workers === 1) chains.set(name, steps!);
      const chain = chains.get(name) ?? crash(freshDir(), name, Number.MAX_SAFE_INTEGER, 1).steps!;

      let cut = { killed: true };
      for (let k = 0; k <= steps! || cut.killed; k++) {
        if (workers === 2 && !twoThreadCut(k, steps!)) continue;
        const dir = freshDir();
        // Each cut, however the batches fell, is a state a crash can leave.
        cut = crash(dir, name, k, workers);
        if (k <= chain) expect(cut.killed, `killed after commit ${k}`).toBe(true);
        const engine = await reopen(dir, workers);
        try {
          const [retry] = await engine.submit([scenario.saga]);
          // Sent before the kill and committed (k ≥ 1): the retry is answered as the same event.
          // (With two threads the first commit may be another thread's step.)
          if (k >= 1 && workers === 1) expect(retry.duplicate, `after commit ${k}`).toBe(true);
          expect(await outcome(engine, retry, scenario), `after commit ${k} of ${steps}`).toEqual(expected);
        } finally {
          await engine.close();
        }
        const { outbox, state } = stored(dir, scenario.state);
        expect(state, `state after commit ${k} of ${steps}`).toEqual(expectedState);
        expect(outbox, `outbox after commit ${k}`).toBe(0);
      }
      // A process per cut: up to half a minute with two threads on a quiet machine.
    }, 300_000);
  }
});

describe('the customer sagas, uncrashed (what every crashed run is compared with)', () => {
  it('a link merging two customers and attaching a device leaves one customer with every session and order', async () => {
    const { answer, observed, state } = await uncrashed(CUSTOMER_SCENARIOS['merge moves sessions and orders']);
    expect(answer).toEqual({ id: 'saga-merge', ok: true, customer: SURVIVOR, created: false, merged: [{ from: MERGED, into: SURVIVOR, via: MERGED_EMAIL }], attached: [DEVICE], refused: [], blocked: [] });
    const session = `${SURVIVOR}#1`;
    // Both moved sessions were open with the survivor's: one session, each activity once, by time.
    expect(state[`cu/sess/${SURVIVOR}`]).toEqual({ id: session, n: 1, start: T0 });
    expect(listed(state[`rec/s/${session}`], 'i')).toEqual([...VIEWED[MERGED], ...VIEWED[DEVICE], ...VIEWED[SURVIVOR]]);
    // Each item it gained lists it once, after the session that had the item first.
    for (const from of [MERGED, DEVICE]) for (const sku of VIEWED[from]) expect(listed(state[`rec/i/${sku}`], 's'), sku).toEqual([`${from}#1`, session]);
    expect((state[`cu/orders/${SURVIVOR}`] as Array<{ order: string }>).map((o) => o.order)).toEqual([ORDERS[MERGED], ORDERS[SURVIVOR]]);
    for (const name of [MERGED, DEVICE]) {
      expect(state[`cu/sess/${name}`]).toBeUndefined();
      expect(state[`cu/orders/${name}`]).toBeUndefined();
      expect(state[`cu/moved/${name}`]).toBe(SURVIVOR);
    }
    for (const id of [SURVIVOR, 'email:survivor@example.com', MERGED, MERGED_EMAIL, DEVICE]) expect(state[`id/x/${id}`], id).toMatchObject({ customer: SURVIVOR });
    expect(Object.keys(state).filter((key) => key.startsWith('id/wait/'))).toEqual([]);
    const { recs, lists } = observed as { recs: { customer: string; items: unknown[] }; lists: unknown[] };
    expect(recs.customer).toBe(SURVIVOR);
    expect(recs.items.length).toBeGreaterThan(0);
    for (const list of lists) expect(list).toEqual(recs);
  });

  it('an erasure of the merged customer leaves nothing of it; the orders stay without it', async () => {
    const { answer, observed, state } = await uncrashed(CUSTOMER_SCENARIOS['erasure of a merged customer']);
    expect(answer).toEqual({ id: 'saga-erase', ok: true, erased: { ids: 5, sessions: 3, orders: 2, requests: 1, messages: 0, kiosks: 0, cases: 0 } });
    const names = [SURVIVOR, 'email:survivor@example.com', MERGED, MERGED_EMAIL, DEVICE];
    const held = Object.entries(state).filter(([key, value]) => names.some((n) => key.includes(n) || JSON.stringify(value).includes(n)));
    expect(held).toEqual([]);
    for (const order of Object.values(ORDERS)) expect(state[`stock/order/${order}`]).toMatchObject({ status: 'placed', lines: [expect.objectContaining({ returned: 0 })] });
    expect(observed).toEqual({ lists: [{ error: 'not_found' }, { error: 'not_found' }, { error: 'not_found' }] });
  });

  it('activity of a linked id is its customer’s, once in the session’s log and once in the item’s index', async () => {
    const { answer, observed, state } = await uncrashed(CUSTOMER_SCENARIOS['activity of a linked id']);
    const session = `${LINKED_CUSTOMER}#1`;
    expect(answer).toEqual({ id: 'saga-view', ok: true, customer: LINKED_CUSTOMER, session });
    expect(listed(state[`rec/s/${session}`], 'i')).toEqual(['x1', 'x2']);
    expect(listed(state['rec/i/x2'], 's')).toEqual(['device:other#1', session]);
    expect(Object.keys(state).filter((key) => key.includes(LINKED_DEVICE) && !key.startsWith('id/'))).toEqual([`cu/moved/${LINKED_DEVICE}`]);
    const { recs } = observed as { recs: Array<{ customer: string }> };
    expect(recs[0].customer).toBe(LINKED_CUSTOMER);
    expect(recs[1]).toEqual(recs[0]);
  });
});
