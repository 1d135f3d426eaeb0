// Restart: state, sequence numbers, dedup answers and pending timers survive a close and reopen
// of the engine (in-process, on a manual clock), and state survives a clean stop and start of
// the `omni serve` process.

import { afterAll, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine, type EventResult, type Output } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { getStock, postEvents, startServe, tempDirs } from './fixtures/omni-process.ts';

const dirs = tempDirs('omni-restart-test-');
afterAll(() => dirs.cleanup());

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/** An engine on a data dir and a clock the test moves by hand; no timer fires on its own. */
function engineOn(path: string, clock: { t: number }, extra: { dedupRetentionMs?: number } = {}): Promise<Engine> {
  return openEngine({ path, processors: defaultProcessors(), clock: { now: () => clock.t }, autoTimers: false, ...extra });
}

const loc = (id: string, location: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'location.upserted',
  location,
  kind: 'store',
  lat: 31.2,
  lon: 121.5,
  ...extra,
});
const received = (id: string, sku: string, location: string, qty: number) => ({ id, type: 'stock.received', sku, location, qty });
const sold = (id: string, sku: string, location: string, qty: number) => ({ id, type: 'stock.sold', sku, location, qty });
const reserve = (id: string, reservation: string, sku: string, location: string, qty: number, ttlMs: number) => ({
  id,
  type: 'stock.reserve',
  reservation,
  sku,
  location,
  qty,
  ttlMs,
});

async function submitOk(engine: Engine, events: unknown[]): Promise<EventResult[]> {
  const results = await engine.submit(events);
  expect(results.filter((r) => !r.ok), 'every event of the set-up is accepted').toEqual([]);
  return results;
}

function stockOf(engine: Engine, sku: string) {
  return engine.snapshot(`stock/${sku}`)?.data as { onHand: number; reserved: number; available: number } | undefined;
}

const TOPICS = ['stock/A', 'stock/A@S1', 'stock/A@S2', 'stock/B', 'stock/B@S1'];

describe('engine restart (in-process, manual clock)', () => {
  it('keeps state, topic seqs, alert seqs, checkpoints, epoch and answers; the next update continues at seq + 1', async () => {
    const path = dirs.make();
    const clock = { t: T0 };
    let engine = await engineOn(path, clock);
    const alerts: Output[] = [];
    engine.onOutput((outputs) => alerts.push(...outputs.filter((o) => o.topic === 'alerts/stock')));
    const answers = await submitOk(engine, [
      loc('l1', 'S1', { lowStock: 3 }),
      loc('l2', 'S2'),
      received('e1', 'A', 'S1', 10),
      received('e2', 'A', 'S2', 4),
      { id: 'e3', type: 'stock.safety', sku: 'A', location: 'S1', safety: 1 },
      reserve('e4', 'rA', 'A', 'S1', 2, HOUR),
      { id: 'e5', type: 'order.placed', order: 'o1', pickup: 'S2', lines: [{ sku: 'A', qty: 1 }] },
      { id: 'e6', type: 'stock.transfer', transfer: 't1', sku: 'A', from: 'S1', to: 'S2', qty: 2 },
      received('e7', 'B', 'S1', 7),
    ]);
    // Separate batches, so the seqs are past 1.
    await submitOk(engine, [sold('e8', 'B', 'S1', 5)]);
    await submitOk(engine, [received('e9', 'A', 'S1', 1)]);
    // Alerts are published at their own partition, a commit after the change that raised them.
    await engine.idle();
    expect(alerts.map((a) => (a.data as { type: string }).type)).toContain('low_stock');

    const before = new Map(TOPICS.map((topic) => [topic, engine.snapshot(topic)]));
    for (const [topic, snap] of before) expect(snap, topic).toBeDefined();
    expect(before.get('stock/A')!.seq).toBeGreaterThan(1);
    const alertSeq = engine.lastSeq('alerts/stock');
    expect(alertSeq).toBe(alerts.at(-1)!.seq);
    const checkpoints = engine.stats().partitions.map((p) => p.checkpoint);
    // 11 events, and the steps of the reservation's and the order's sagas, the alerts and the
    // customer domain's reactions to stock and order events, the store's notices and the commerce
    // news (derived events), each counted by the partition that applied it.
    const sagaSteps = engine.stats().eventsByTypeAndResult;
    const derived = [...sagaSteps].filter(([k]) => /^(\$follow|stock\.(hold|held|unhold|quote|alert)|order\.(quoted|held|unheld)|store\.notice|commerce\.counted)\|/.test(k)).reduce((n, [, c]) => n + c, 0);
    expect(derived).toBeGreaterThan(0);
    expect(checkpoints.reduce((a, b) => a + b, 0)).toBe(11 + derived);
    const epoch = engine.epoch;
    await engine.close();

    engine = await engineOn(path, clock);
    try {
      expect(engine.epoch).toBe(epoch);
      for (const [topic, snap] of before) expect(engine.snapshot(topic), topic).toEqual(snap);
      expect(engine.lastSeq('alerts/stock')).toBe(alertSeq);
      expect(engine.stats().partitions.map((p) => p.checkpoint)).toEqual(checkpoints);

      // A repeated id is still recognised, with its first answer (expiresAt included).
      const again = await engine.submit([reserve('e4', 'rA', 'A', 'S1', 2, HOUR), { id: 'e5', type: 'order.placed', order: 'o1', pickup: 'S2', lines: [{ sku: 'A', qty: 1 }] }]);
      expect(again).toEqual([
        { ...answers[5], duplicate: true },
        { ...answers[6], duplicate: true },
      ]);
      expect(engine.snapshot('stock/A')).toEqual(before.get('stock/A'));

      const outputs: Output[] = [];
      engine.onOutput((o) => outputs.push(...o));
      await submitOk(engine, [received('n1', 'A', 'S1', 1)]);
      const seqOf = (topic: string) => outputs.find((o) => o.topic === topic)?.seq;
      expect(seqOf('stock/A')).toBe(before.get('stock/A')!.seq + 1);
      expect(seqOf('stock/A@S1')).toBe(before.get('stock/A@S1')!.seq + 1);
      expect(seqOf('stock/A@S2')).toBeUndefined();
      expect(engine.snapshot('stock/A@S2')).toEqual(before.get('stock/A@S2'));

      // B is at 2 available (threshold 3): back above, then down across it raises the next alert.
      outputs.length = 0;
      await submitOk(engine, [received('n2', 'B', 'S1', 10), sold('n3', 'B', 'S1', 10)]);
      await engine.idle();
      expect(seqOf('stock/B')).toBe(before.get('stock/B')!.seq + 1);
      expect(outputs.filter((o) => o.topic === 'alerts/stock').map((o) => o.seq)).toEqual([alertSeq + 1]);
      // 3 events and the alert n3 raised; the customer domain follows no stock change here (no
      // kiosk shows these SKUs: Processor.followsWhen).
      expect(engine.stats().eventsByTypeAndResult.get('$follow|ok')).toBeUndefined();
      expect(engine.stats().partitions.map((p) => p.checkpoint).reduce((a, b) => a + b, 0)).toBe(11 + 3 + derived + 1);

      // The order's and the reservation's holds are still there: their ends apply once.
      const ends = await submitOk(engine, [
        { id: 'n4', type: 'order.fulfilled', order: 'o1' },
        { id: 'n5', type: 'stock.commit', reservation: 'rA' },
      ]);
      expect(ends[0]).toMatchObject({ ok: true, order: 'o1', status: 'completed' });
      expect(stockOf(engine, 'A')).toMatchObject({ onHand: 10 + 4 + 1 + 1 - 1 - 2, reserved: 0 });
    } finally {
      await engine.close();
    }
  });

  it('pending reservation expiries survive: due while closed fires on open, later ones when the clock passes, cancelled ones never', async () => {
    const path = dirs.make();
    const clock = { t: T0 };
    let engine = await engineOn(path, clock);
    await submitOk(engine, [
      loc('l1', 'S1'),
      received('e1', 'A', 'S1', 10),
      reserve('e2', 'late', 'A', 'S1', 2, 60_000),
      reserve('e3', 'early', 'A', 'S1', 3, 5_000),
      reserve('e4', 'released', 'A', 'S1', 1, 1_000),
      reserve('e5', 'committed', 'A', 'S1', 1, 2_000),
    ]);
    await submitOk(engine, [
      { id: 'e6', type: 'stock.release', reservation: 'released' },
      { id: 'e7', type: 'stock.commit', reservation: 'committed' },
    ]);
    expect(await engine.runDueTimers()).toBe(0);
    expect(stockOf(engine, 'A')).toMatchObject({ onHand: 9, reserved: 5, available: 4 });
    expect(engine.stats().pendingTimers).toBe(2);
    const seqBefore = engine.lastSeq('stock/A');
    await engine.close();

    // While closed, 'early' (and the timers of the ended reservations) came due.
    clock.t = T0 + 10_000;
    engine = await engineOn(path, clock);
    await engine.runDueTimers();
    expect(stockOf(engine, 'A')).toMatchObject({ onHand: 9, reserved: 2, available: 7 });
    expect(engine.lastSeq('stock/A')).toBe(seqBefore + 1);
    expect(engine.read('stock/res/early')).toBeUndefined();
    expect(engine.read('stock/res/late')).toBeDefined();
    expect(engine.stats().pendingTimers).toBe(1);
    await engine.close();

    // Reopened before 'late' is due: nothing fires, nothing changes.
    engine = await engineOn(path, clock);
    try {
      expect(await engine.runDueTimers()).toBe(0);
      expect(engine.lastSeq('stock/A')).toBe(seqBefore + 1);
      clock.t = T0 + 59_999;
      expect(await engine.runDueTimers()).toBe(0);
      expect(stockOf(engine, 'A')).toMatchObject({ reserved: 2 });

      clock.t = T0 + 60_000;
      const outputs: Output[] = [];
      engine.onOutput((o) => outputs.push(...o));
      expect(await engine.runDueTimers()).toBe(1);
      expect(stockOf(engine, 'A')).toMatchObject({ onHand: 9, reserved: 0, available: 9 });
      expect(outputs.find((o) => o.topic === 'stock/A')?.seq).toBe(seqBefore + 2);
      expect(engine.stats().pendingTimers).toBe(0);

      // Expired holds are gone for good: neither can be released or committed any more.
      const ends = await engine.submit([
        { id: 'x1', type: 'stock.release', reservation: 'early' },
        { id: 'x2', type: 'stock.commit', reservation: 'late' },
      ]);
      expect(ends.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['unknown_reservation', 'unknown_reservation']);
      expect(stockOf(engine, 'A')).toMatchObject({ onHand: 9, reserved: 0 });
    } finally {
      await engine.close();
    }
  });

  it('keeps the epoch across restarts and gives a new data dir a new one', async () => {
    const clock = { t: T0 };
    const path = dirs.make();
    const first = await engineOn(path, clock);
    const epoch = first.epoch;
    expect(epoch).toMatch(/\S/);
    await first.close();
    for (let i = 0; i < 2; i++) {
      const again = await engineOn(path, clock);
      expect(again.epoch).toBe(epoch);
      expect(again.snapshot('stock/none')).toBeUndefined();
      await again.close();
    }
    const other = await engineOn(dirs.make(), clock);
    expect(other.epoch).not.toBe(epoch);
    await other.close();
  });

  it('recognises a repeated id across restarts for the whole retention', async () => {
    const path = dirs.make();
    const clock = { t: T0 };
    let engine = await engineOn(path, clock);
    await submitOk(engine, [loc('l1', 'S1'), received('X', 'A', 'S1', 5)]);
    // Restarts every 6 hours, with traffic in between, for 24 hours after X.
    for (let h = 6; h <= 24; h += 6) {
      await engine.close();
      clock.t = T0 + h * HOUR;
      engine = await engineOn(path, clock);
      await submitOk(engine, [received(`fill-${h}`, 'F', 'S1', 1)]);
      expect(await engine.submit([received('X', 'A', 'S1', 5)]), `${h} h after`).toEqual([{ id: 'X', ok: true, duplicate: true }]);
    }
    expect(stockOf(engine, 'A')?.onHand).toBe(5);
    await engine.close();
  });

  // EngineOptions.dedupRetentionMs: "recognised at least this, at most twice this". The rotation
  // time lives only in memory until the first rotation is written, so an engine restarted more
  // often than the retention never rotates: its dedup index never forgets and grows forever.
  it('forgets a repeated id after twice the retention even when restarted more often than that', async () => {
    const path = dirs.make();
    const clock = { t: T0 };
    const retention = { dedupRetentionMs: 1_000 };
    let engine = await engineOn(path, clock, retention);
    await submitOk(engine, [loc('l1', 'S1'), received('X', 'A', 'S1', 5)]);
    for (let k = 1; k <= 6; k++) {
      await engine.close();
      clock.t = T0 + k * 500;
      engine = await engineOn(path, clock, retention);
      await submitOk(engine, [received(`fill-${k}`, 'F', 'S1', 1)]);
    }
    // 3 × the retention later, X is a new event again.
    const again = await engine.submit([received('X', 'A', 'S1', 5)]);
    await engine.close();
    expect(again).toEqual([{ id: 'X', ok: true }]);
  });
});

describe('engine restart with ids that are not well-formed Unicode', () => {
  // Ids are checked for length and control characters only, so the JSON escape "\ud800" gives
  // an id holding a lone surrogate. In memory all works; but stored values (msgpack, UTF-8) do
  // not keep a lone surrogate: after a restart the SKU's row names another location, the
  // topic's seq starts again from 0, and a commit of a hold acts on another SKU's key.
  it('are refused, or survive a restart unchanged', async () => {
    const path = dirs.make();
    const clock = { t: T0 };
    const L = 'S\ud800';
    const K = 'K\udfff';
    let engine = await engineOn(path, clock);
    const first = await engine.submit([loc('l1', L), received('e1', K, L, 10), reserve('e2', 'hold', K, L, 3, HOUR)]);
    if (first.every((r) => !r.ok && r.error.code === 'invalid_event')) {
      await engine.close();
      return;
    }
    expect(first.map((r) => r.ok)).toEqual([true, true, true]);
    const before = engine.snapshot(`stock/${K}`);
    expect(before?.seq).toBe(1);
    await engine.close();

    engine = await engineOn(path, clock);
    try {
      expect(engine.snapshot(`stock/${K}`)).toEqual(before);
      const [commit] = await engine.submit([{ id: 'e3', type: 'stock.commit', reservation: 'hold' }]);
      expect(commit.ok).toBe(true);
      expect(engine.snapshot(`stock/${K}`)).toMatchObject({
        seq: 2,
        data: { onHand: 7, reserved: 0, locations: { [L]: { onHand: 7, reserved: 0, safety: 0, available: 7 } } },
      });
    } finally {
      await engine.close();
    }
  });
});

describe('omni serve restart (child process)', () => {
  const SECRET = 'restart-test-secret';
  const token = signToken({ sub: 'feed', role: 'ingest' }, SECRET);

  it('a clean SIGTERM stop and a start keep stock, seqs and dedup answers', async () => {
    const dataDir = dirs.make();
    let server = await startServe({ dataDir, secret: SECRET });
    try {
      const setup = await postEvents(server.url, token, [
        loc('l1', 'S1'),
        loc('l2', 'S2'),
        received('e1', 'A', 'S1', 10),
        received('e2', 'A', 'S2', 5),
        reserve('e3', 'rA', 'A', 'S1', 4, 30 * 24 * HOUR),
        received('e4', 'B', 'S2', 3),
      ]);
      expect(setup.status).toBe(200);
      expect(setup.body.results.every((r: EventResult) => r.ok)).toBe(true);
      const before = { A: await getStock(server.url, 'A'), B: await getStock(server.url, 'B') };
      expect(before.A).toMatchObject({ status: 200, body: { onHand: 15, reserved: 4, available: 11 } });

      server.child.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr()).toMatch(/stopped/);

      server = await startServe({ dataDir, secret: SECRET });
      expect(await getStock(server.url, 'A')).toEqual(before.A);
      expect(await getStock(server.url, 'B')).toEqual(before.B);

      const again = await postEvents(server.url, token, [reserve('e3', 'rA', 'A', 'S1', 4, 30 * 24 * HOUR), received('e1', 'A', 'S1', 10)]);
      expect(again.body.results).toEqual([
        { ...setup.body.results[4], duplicate: true },
        { ...setup.body.results[2], duplicate: true },
      ]);
      expect(await getStock(server.url, 'A')).toEqual(before.A);

      const next = await postEvents(server.url, token, [{ id: 'n1', type: 'stock.release', reservation: 'rA' }]);
      expect(next.body.results).toEqual([{ id: 'n1', ok: true, reservation: 'rA' }]);
      const after = await getStock(server.url, 'A');
      expect(after.body).toMatchObject({ onHand: 15, reserved: 0, available: 15, seq: before.A.body.seq + 1 });
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }, 30_000);

  it('SIGTERM while clients ingest: every 200 is kept, every refused request was not applied', async () => {
    const dataDir = dirs.make();
    let server = await startServe({ dataDir, secret: SECRET });
    const WORKERS = 4;
    const acked = Array.from({ length: WORKERS }, () => 0);
    const refused: Array<{ worker: number; events: ReturnType<typeof received>[]; how: string }> = [];
    try {
      await postEvents(server.url, token, [loc('l1', 'S1')]);
      let total = 0;
      let signalled!: () => void;
      const enoughAcked = new Promise<void>((resolve) => (signalled = resolve));
      const worker = async (w: number) => {
        for (let n = 0; ; n++) {
          const events = Array.from({ length: 5 }, (_, i) => received(`w${w}-${n}-${i}`, `SKU-${w}`, 'S1', 1 + i));
          let answer;
          try {
            answer = await postEvents(server.url, token, events);
          } catch (error) {
            refused.push({ worker: w, events, how: `connection: ${(error as Error).message}` });
            return;
          }
          if (answer.status !== 200) {
            expect(answer).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
            refused.push({ worker: w, events, how: '503' });
            return;
          }
          expect(answer.body.results.every((r: EventResult) => r.ok && !r.duplicate)).toBe(true);
          acked[w] += 15;
          if (++total === 40) signalled();
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await enoughAcked;
      server.child.kill('SIGTERM');
      await Promise.all(workers);
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(refused).toHaveLength(WORKERS);

      server = await startServe({ dataDir, secret: SECRET });
      for (let w = 0; w < WORKERS; w++) {
        expect((await getStock(server.url, `SKU-${w}`)).body.onHand, `SKU-${w}`).toBe(acked[w]);
      }
      // A refused request was not applied: sent again now, none of its events is a duplicate.
      for (const r of refused) {
        const again = await postEvents(server.url, token, r.events);
        expect(again.body.results, `worker ${r.worker} (${r.how})`).toEqual(r.events.map((e) => ({ id: e.id, ok: true })));
        expect((await getStock(server.url, `SKU-${r.worker}`)).body.onHand).toBe(acked[r.worker] + 15);
      }
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }, 30_000);
});
