// An engine fed from partition logs (Engine.submitLogged, log-positions.ts): each log's position
// is committed with the state its entries produced, entries delivered again at or below it are
// answered and never applied again (also after a reopen, and once dedup has forgotten their
// ids), an event appended twice is answered from dedup, an entry keyed to another partition is
// refused with nothing applied, derived events and timers go on as for submitted events, two
// engine threads answer as one, and a process killed with SIGKILL while feeding leaves exactly
// the entries up to its position applied.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openEngineWithWorkers, type Engine, type EngineOptions, type EventResult, type ThreadedEngine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { resKey } from '../engine/stock/types.ts';
import { bundle, type Bundle } from './bundle-harness.ts';
import { entry, LOCATION, LOGS, PARTITIONS, skuOf } from './fixtures/log-feed.ts';
import { prng, ROOT, tempDirs } from './fixtures/omni-process.ts';

const dirs = tempDirs('omni-logged-test-');
afterAll(() => dirs.cleanup());

/**
 * The feeder process bundled once (bundle-harness.ts), with the engine thread's file: each
 * process this file starts, and each engine thread it opens, loads plain JavaScript instead of
 * compiling the engine's modules through tsx again (most of a start's time).
 */
let fixture: Bundle;
beforeAll(async () => {
  fixture = await bundle({ 'log-feeder': 'test/fixtures/log-feeder.ts' });
  process.env.OMNI_ENGINE_THREAD_FILE = fixture.file('engine-thread');
});
afterAll(() => fixture?.remove());

const [LOG_A, LOG_B] = LOGS;
let clock: { t: number; now(): number };
const open: Array<Engine | ThreadedEngine> = [];

async function start(path: string, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  const e = await openEngine({ path, processors: defaultProcessors({}), partitions: PARTITIONS, clock, autoTimers: false, ...extra });
  open.push(e);
  return e;
}

const onHand = (e: Pick<Engine, 'snapshot'>, sku: string) => (e.snapshot(`stock/${sku}`)?.data as { onHand: number } | undefined)?.onHand ?? 0;
const entries = (log: (typeof LOGS)[number], from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => entry(log, from + i));
/** Each of the log's SKUs with the number of entries from 1 to `position` received on it. */
const expectedStock = (log: (typeof LOGS)[number], position: number) =>
  Object.fromEntries(log.skus.map((sku) => [sku, Array.from({ length: position }, (_, i) => i + 1).filter((s) => skuOf(log, s) === sku).length]));
const stockOf = (e: Pick<Engine, 'snapshot'>, log: (typeof LOGS)[number]) => Object.fromEntries(log.skus.map((sku) => [sku, onHand(e, sku)]));
const ok = (id: string): EventResult => ({ id, ok: true });
const dup = (id: string): EventResult => ({ id, ok: true, duplicate: true });

beforeEach(() => {
  clock = { t: 1_700_000_000_000, now() { return this.t; } };
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

describe('an engine fed from partition logs', () => {
  it('commits each log position with the state its entries produced, and has it after a reopen', async () => {
    const dir = dirs.make();
    const e = await start(dir);
    expect((await e.submit([LOCATION]))[0].ok).toBe(true);
    expect(LOGS.map((l) => e.logPosition(l.partition))).toEqual([0, 0]);
    expect(await e.submitLogged(LOG_A.partition, entries(LOG_A, 1, 4))).toEqual(entries(LOG_A, 1, 4).map((x) => ok(x.event.id)));
    // Answered once durable: the position is there with the state.
    expect(e.logPosition(LOG_A.partition)).toBe(4);
    expect(stockOf(e, LOG_A)).toEqual(expectedStock(LOG_A, 4));
    await Promise.all([e.submitLogged(LOG_A.partition, entries(LOG_A, 5, 7)), e.submitLogged(LOG_B.partition, entries(LOG_B, 1, 2))]);
    expect(e.read('$log/' + LOG_A.partition)).toBe(7);
    await e.close();

    const again = await start(dir);
    expect(LOGS.map((l) => again.logPosition(l.partition))).toEqual([7, 2]);
    expect(stockOf(again, LOG_A)).toEqual(expectedStock(LOG_A, 7));
    expect(stockOf(again, LOG_B)).toEqual(expectedStock(LOG_B, 2));
  });

  it('answers entries delivered again as duplicates and never applies them twice, even once dedup forgot them', async () => {
    const dir = dirs.make();
    const e = await start(dir, { dedupRetentionMs: 1000 });
    await e.submit([LOCATION]);
    await e.submitLogged(LOG_A.partition, entries(LOG_A, 1, 3));
    // 2 and 3 again, with 4 and 5 new: one call, in order.
    const ids = entries(LOG_A, 2, 5).map((x) => x.event.id);
    expect(await e.submitLogged(LOG_A.partition, entries(LOG_A, 2, 5))).toEqual([dup(ids[0]), dup(ids[1]), ok(ids[2]), ok(ids[3])]);
    expect(stockOf(e, LOG_A)).toEqual(expectedStock(LOG_A, 5));
    await e.close();

    // Two retention periods later every id is forgotten: only the position knows what was applied.
    clock.t += 10_000;
    const again = await start(dir, { dedupRetentionMs: 1000 });
    expect(again.logPosition(LOG_A.partition)).toBe(5);
    const all = entries(LOG_A, 1, 6);
    expect(await again.submitLogged(LOG_A.partition, all)).toEqual(all.map((x, i) => (i < 5 ? dup(x.event.id) : ok(x.event.id))));
    expect(stockOf(again, LOG_A)).toEqual(expectedStock(LOG_A, 6));
    // Submitted rather than logged, the first entry's event is applied again: dedup had forgotten it.
    expect(await again.submit([all[0].event])).toEqual([ok(all[0].event.id)]);
    expect(onHand(again, skuOf(LOG_A, 1))).toBe(expectedStock(LOG_A, 6)[skuOf(LOG_A, 1)] + 1);
  });

  it('answers an event appended twice (a later seq, an id applied already) from dedup, as submit does', async () => {
    const e = await start(dirs.make());
    await e.submit([LOCATION]);
    const first = entry(LOG_A, 1);
    await e.submitLogged(LOG_A.partition, [first]);
    const reused = { ...first.event, qty: 2 };
    const [again, conflict, submitted] = await e.submitLogged(LOG_A.partition, [
      { seq: 2, event: first.event },
      { seq: 3, event: reused },
      entry(LOG_A, 4),
    ]);
    expect(again).toEqual(dup(first.event.id));
    expect(conflict).toEqual((await e.submit([reused]))[0]);
    expect(conflict).toMatchObject({ ok: false, error: { code: 'id_conflict' } });
    expect(submitted).toEqual(ok(entry(LOG_A, 4).event.id));
    expect(e.logPosition(LOG_A.partition)).toBe(4);
    // Entries 1 and 4 applied, once each.
    const applied = Object.fromEntries(LOG_A.skus.map((sku) => [sku, [1, 4].filter((seq) => skuOf(LOG_A, seq) === sku).length]));
    expect(stockOf(e, LOG_A)).toEqual(applied);
  });

  it('refuses an entry keyed to another partition, and an invalid one as submit does, applying nothing of them', async () => {
    const e = await start(dirs.make());
    await e.submit([LOCATION]);
    const stray = { seq: 1, event: entry(LOG_B, 1).event };
    const invalid = { seq: 2, event: { id: 'half', type: 'stock.received', sku: LOG_A.skus[0], location: 'S1', qty: 1.5 } };
    const checkpoints = LOGS.map((l) => e.checkpoint(l.partition));
    const [wrong, refused] = await e.submitLogged(LOG_A.partition, [stray, invalid]);
    expect(wrong).toMatchObject({ id: stray.event.id, ok: false, error: { code: 'wrong_partition' } });
    expect(refused).toEqual((await e.submit([invalid.event]))[0]);
    await e.idle();
    expect(LOGS.map((l) => e.checkpoint(l.partition))).toEqual(checkpoints);
    expect(stockOf(e, LOG_A)).toEqual(expectedStock(LOG_A, 0));
    expect(stockOf(e, LOG_B)).toEqual(expectedStock(LOG_B, 0));
    // Answered for good: the position moves past them, so a reader does not read them again.
    expect(e.logPosition(LOG_A.partition)).toBe(2);
    expect(e.logPosition(LOG_B.partition)).toBe(0);

    // Calls that cannot be a log's entries are refused whole.
    for (const [partition, bad] of [
      [PARTITIONS, entries(LOG_A, 3, 3)],
      [-1, entries(LOG_A, 3, 3)],
      [LOG_A.partition, [entry(LOG_A, 4), entry(LOG_A, 3)]],
      [LOG_A.partition, [entry(LOG_A, 4), entry(LOG_A, 4)]],
      [LOG_A.partition, [{ seq: 0, event: entry(LOG_A, 3).event }]],
      [LOG_A.partition, 'entries'],
    ] as const) {
      await expect(e.submitLogged(partition, bad as never)).rejects.toThrow(RangeError);
    }
    await e.idle();
    expect(e.logPosition(LOG_A.partition)).toBe(2);
    expect(stockOf(e, LOG_A)).toEqual(expectedStock(LOG_A, 0));
  });

  it('emits derived events and sets timers for logged entries as for submitted ones', async () => {
    const sku = LOG_A.skus[0];
    const reserve = { id: 'hold-1', type: 'stock.reserve', reservation: 'R1', sku, location: 'S1', qty: 2, ttlMs: 1000 };
    const run = async (logged: boolean) => {
      clock.t = 1_700_000_000_000;
      const e = await start(dirs.make());
      await e.submit([LOCATION, { id: 'in-5', type: 'stock.received', sku, location: 'S1', qty: 5 }]);
      // The reservation's partition holds it and asks the SKU's for the stock: a derived event.
      const answer = logged ? (await e.submitLogged(partitionOf(resKey('R1'), PARTITIONS), [{ seq: 1, event: reserve }]))[0] : (await e.submit([reserve]))[0];
      await e.idle();
      const held = e.snapshot(`stock/${sku}`)?.data;
      clock.t += 2000;
      const fired = await e.runDueTimers();
      return { answer, held, fired, expired: e.snapshot(`stock/${sku}`)?.data };
    };
    const submitted = await run(false);
    expect(submitted.answer.ok).toBe(true);
    expect(submitted.held).toMatchObject({ reserved: 2 });
    expect(submitted.fired).toBeGreaterThan(0);
    expect(submitted.expired).toMatchObject({ reserved: 0 });
    expect(await run(true)).toEqual(submitted);
  });

  it('answers and applies the same on two engine threads as in this thread', async () => {
    const run = async (workers: number) => {
      const e = await openEngineWithWorkers(workers, { path: dirs.make(), domains: {}, partitions: PARTITIONS });
      open.push(e);
      await e.submit([LOCATION]);
      const first = await Promise.all(LOGS.map((l) => e.submitLogged(l.partition, entries(l, 1, 20))));
      // Delivered again from 15, with a stray entry of the other log and an invalid one among new ones.
      const again = await Promise.all(
        LOGS.map((l, i) =>
          e.submitLogged(l.partition, [
            ...entries(l, 15, 25),
            { seq: 26, event: entry(LOGS[1 - i], 99).event },
            { seq: 27, event: { id: `bad-${l.partition}`, type: 'stock.received', sku: l.skus[0], location: 'S1', qty: -1 } },
            entry(l, 28),
          ]),
        ),
      );
      await e.idle();
      const positions = LOGS.map((l) => e.logPosition(l.partition));
      const stock = LOGS.map((l) => stockOf(e, l));
      await e.close();
      return { first, again, positions, stock };
    };
    const inThisThread = await run(1);
    expect(inThisThread.positions).toEqual([28, 28]);
    expect(inThisThread.again[0].slice(0, 6).every((r) => r.duplicate === true)).toBe(true);
    expect(inThisThread.again[0].map((r) => (r.ok ? 'ok' : r.error.code)).slice(11)).toEqual(['wrong_partition', 'invalid_event', 'ok']);
    expect(await run(2)).toEqual(inThisThread);
  });
});

describe('a process feeding logs, killed with SIGKILL at random moments', () => {
  const SEED = Number(process.env.OMNI_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const KILLS = 6;
  const TOTAL = 1200;

  /** Runs log-feeder.ts until it has printed `killAfter` answers (then SIGKILL) or is done. */
  async function feed(dir: string, workers: number, overlap: number, killAfter: number, seed: number) {
    const child = spawn(process.execPath, [fixture.file('log-feeder'), dir, String(workers), String(TOTAL), String(overlap), String(seed)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const acked = new Map<number, number>();
    let answers = 0;
    let wrong = 0;
    let done = false;
    for await (const line of createInterface({ input: child.stdout })) {
      const m = /^acked (\d+) (\d+) (\d+)$/.exec(line);
      if (line === 'done') done = true;
      if (!m) continue;
      const [p, seq, bad] = m.slice(1).map(Number);
      acked.set(p, Math.max(acked.get(p) ?? 0, seq));
      wrong += bad;
      if (++answers === killAfter) child.kill('SIGKILL');
    }
    const exit = await exited;
    if (!done && exit.signal !== 'SIGKILL') throw new Error(`log-feeder failed (${exit.code}): ${stderr}`);
    return { acked, wrong, killed: exit.signal === 'SIGKILL' };
  }

  it(`applies every entry up to each log's position exactly once and none after it (seed ${SEED})`, { timeout: 180_000 }, async () => {
    const rng = prng(SEED);
    const dir = dirs.make();
    let kills = 0;
    for (let round = 0; ; round++) {
      const last = round === KILLS;
      const workers = 1 + (round % 2);
      const run = await feed(dir, workers, rng.int(0, 30), last ? Number.MAX_SAFE_INTEGER : rng.int(1, 25), rng.int(0, 2 ** 30));
      if (run.killed) kills++;
      expect(run.wrong, `round ${round}: answers other than the position promised`).toBe(0);
      // The feeder itself read the positions on two engine threads in every other round (its `wrong`).
      const e = await openEngineWithWorkers(1, { path: dir, domains: {}, partitions: PARTITIONS });
      try {
        for (const log of LOGS) {
          const position = e.logPosition(log.partition);
          // Whatever was answered was durable, with its position.
          expect(position, `round ${round}, log ${log.partition}`).toBeGreaterThanOrEqual(run.acked.get(log.partition) ?? 0);
          expect(stockOf(e, log), `round ${round}, log ${log.partition} at ${position}`).toEqual(expectedStock(log, position));
          if (last) expect(position).toBe(TOTAL);
        }
      } finally {
        await e.close();
      }
      if (last) break;
    }
    expect(kills).toBeGreaterThan(0);
  });
});
