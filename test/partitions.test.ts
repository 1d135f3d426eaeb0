// The partition layer: which partition each domain's key lands in (pinned to literal numbers, so
// a change of hash or modulo fails here before it silently reorders a data dir), the count kept
// in the data dir (refused when another is asked for, 16 for dirs made before it was kept), and
// what /metrics and GET /v1/cluster show of it.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINE_ON_ITS_OWN_THREAD } from './engine-under-test.ts';
import { main, type CliIO } from '../cli/mod.ts';
import { customerProcessor, defaultProcessors, openEngine, PartitionCountMismatchError, type Engine, type EngineOptions, type EventResult, type InputEvent } from '../engine/mod.ts';
import { StateStore } from '../engine/store.ts';
import { partitionOf } from '../engine/partitions.ts';
import { bearer, getJson, postJson, startTestServer, type TestServer } from './gateway-harness.ts';

let dir: string;
const open: Engine[] = [];

async function start(extra: Partial<EngineOptions> = {}): Promise<Engine> {
  const engine = await openEngine({ path: dir, processors: defaultProcessors(), durability: 'none', autoTimers: false, ...extra });
  open.push(engine);
  return engine;
}

async function stop(engine: Engine): Promise<void> {
  open.splice(open.indexOf(engine), 1);
  await engine.close();
}

const checkpoints = (engine: Engine) => engine.stats().partitions.map((p) => p.checkpoint);

/** The partitions whose checkpoint `submit` moved, with how far (followers' reactions included), and the answers. */
async function advancedBy(engine: Engine, events: unknown[]): Promise<[Record<number, number>, EventResult[]]> {
  const before = checkpoints(engine);
  const answers = await engine.submit(events);
  await engine.idle();
  const moved: Record<number, number> = {};
  checkpoints(engine).forEach((n, p) => {
    if (n !== before[p]) moved[p] = n - before[p];
  });
  return [moved, answers];
}

/**
 * One event per kind of key, each with the partition it must land in among 32. Every location is
 * keyed by the constant `locations`. berlin-1 alerts at no stock level (lowStock 0): an alert is
 * a derived event applied at the partition of `alerts/stock` after the sale's commit, which would
 * move a second checkpoint at a moment of its own.
 */
const KEYED: Array<{ key: string; partition: number; derived?: number[]; event: (id: string) => Record<string, unknown> }> = [
  { key: 'locations', partition: 15, event: (id) => ({ id, type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.5, lon: 13.4, lowStock: 0 }) },
  { key: 'SKU TSHIRT-M', partition: 15, event: (id) => ({ id, type: 'stock.received', sku: 'TSHIRT-M', location: 'berlin-1', qty: 1 }) },
  { key: 'SKU SKU-000001', partition: 26, event: (id) => ({ id, type: 'stock.received', sku: 'SKU-000001', location: 'berlin-1', qty: 1 }) },
  { key: 'reservation cart-7', partition: 3, event: (id) => ({ id, type: 'stock.release', reservation: 'cart-7' }) },
  { key: 'order order-7', partition: 27, event: (id) => ({ id, type: 'order.cancelled', order: 'order-7' }) },
  // The customer domain: a customer's activity at its own partition, and the item's half of it
  // at the partition of its SKU's bucket (`customers/items/15`); identities and profiles at one.
  { key: 'customer device:app-77', partition: 7, derived: [8], event: (id) => ({ id, type: 'activity.viewed', subject: 'device:app-77', sku: 'TSHIRT-M', channel: 'app' }) },
  { key: 'customers/identity', partition: 13, event: (id) => ({ id, type: 'customer.profile', customer: 'c1', tier: 'vip' }) },
  { key: 'service', partition: 4, event: (id) => ({ id, type: 'agent.offline', agent: 'ana' }) },
];

const customers = customerProcessor();
const FOLLOWED = new Set(customers.follows);

/**
 * What submitting `entries`' events at once moves, given their answers: each event its partition
 * and those of the derived events it causes, and the follower's partition for the event (a stock
 * event's, an order's, the identity partition for a service request) once per partition with
 * accepted followed events among them that concern it (a follow event each, carrying that
 * partition's followed events of the batch).
 */
function expectedMoves(entries: typeof KEYED, answers: EventResult[]): Record<number, number> {
  const moved: Record<number, number> = {};
  const add = (p: number) => (moved[p] = (moved[p] ?? 0) + 1);
  const follows = new Set<string>();
  entries.forEach(({ partition, derived, event }, i) => {
    add(partition);
    if (!answers[i].ok) return;
    for (const p of derived ?? []) add(p);
    const ev = event('-') as InputEvent;
    // A stock change is followed only for a SKU some kiosk shows (Processor.followsWhen): none here.
    if (FOLLOWED.has(ev.type) && !ev.type.startsWith('stock.')) follows.add(`${partition}>${partitionOf(customers.partitionKey(ev), 32)}`);
  });
  for (const f of follows) add(Number(f.split('>')[1]));
  return moved;
}

/** The bytes of the data dir's LMDB data file: unchanged when nothing was written. */
const dataFileHash = () => createHash('sha256').update(readFileSync(join(dir, 'data.mdb'))).digest('hex');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-partitions-'));
});
afterEach(async () => {
  for (const engine of open.splice(0)) await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the partition of a key', () => {
  it('is fixed for every domain: each event advances the checkpoint of its literal partition among 32', async () => {
    const engine = await start();
    expect(engine.layout().partitions).toBe(32);
    for (const entry of KEYED) {
      const [moved, answers] = await advancedBy(engine, [entry.event(`first ${entry.key}`)]);
      expect(moved, entry.key).toEqual(expectedMoves([entry], answers));
    }
  });

  it('is the same after a restart: the same keys advance the same partitions, from where they were', async () => {
    const events = (round: string) => KEYED.map(({ key, event }) => event(`${round} ${key}`));
    let engine = await start();
    const [first, answers] = await advancedBy(engine, events('a'));
    const before = checkpoints(engine);
    await stop(engine);

    engine = await start();
    expect(checkpoints(engine)).toEqual(before);
    expect((await advancedBy(engine, events('b')))[0]).toEqual(first);
    expect(first).toEqual(expectedMoves(KEYED, answers));
  });

  it('publishes the stock alerts at the partition of `alerts/stock` (31), in a batch after the change that raised them', async () => {
    const engine = await start();
    // Alerting at the default threshold (5), unlike KEYED's berlin-1.
    await engine.submit([{ id: 'declare', type: 'location.upserted', location: 'berlin-1', kind: 'store', lat: 52.5, lon: 13.4 }]);
    const batches: Array<Array<{ topic: string; seq: number; data: unknown }>> = [];
    const alerted = new Promise<void>((resolve) =>
      engine.onOutput((outputs) => {
        batches.push(outputs);
        if (batches.flat().filter((o) => o.topic === 'alerts/stock').length === 2) resolve();
      }),
    );
    const before = checkpoints(engine);
    const [sale] = await engine.submit([{ id: 'sale', type: 'stock.sold', sku: 'TSHIRT-M', location: 'berlin-1', qty: 1 }]);
    expect(sale.ok).toBe(true);
    await alerted;
    const alerts = batches.flat().filter((o) => o.topic === 'alerts/stock');
    expect(alerts.map((o) => [o.seq, (o.data as { type: string }).type])).toEqual([[1, 'low_stock'], [2, 'discrepancy']]);
    const saleBatch = batches.findIndex((outputs) => outputs.some((o) => o.topic === 'stock/TSHIRT-M'));
    const alertBatch = batches.findIndex((outputs) => outputs.some((o) => o.topic === 'alerts/stock'));
    expect(alertBatch).toBeGreaterThan(saleBatch);
    const after = checkpoints(engine);
    expect([after[15] - before[15], after[31] - before[31]]).toEqual([1, 2]);
  });
});

describe('per-partition figures', () => {
  it('count events waiting for their batch by partition, and how many each partition applied', async () => {
    const engine = await start();
    const sku = (id: string, sku: string) => ({ id, type: 'stock.received', sku, location: 'berlin-1', qty: 1 });
    // Queued synchronously; the batch starts on a later turn of the event loop.
    const applied = engine.submit([sku('a1', 'TSHIRT-M'), sku('a2', 'TSHIRT-M'), sku('a3', 'SKU-000001'), KEYED.find((k) => k.key === 'service')!.event('a4')]);
    const waiting = engine.stats().partitions.filter((p) => p.queued > 0).map(({ partition, queued }) => ({ partition, queued }));
    expect(waiting).toEqual([{ partition: 4, queued: 1 }, { partition: 15, queued: 2 }, { partition: 26, queued: 1 }]);
    await applied;
    const after = engine.stats().partitions;
    expect(after.every((p) => p.queued === 0)).toBe(true);
    expect([after[4].checkpoint, after[15].checkpoint, after[26].checkpoint]).toEqual([1, 2, 1]);
    expect(after.reduce((sum, p) => sum + p.checkpoint, 0)).toBe(4);
  });
});

describe('the partition count of a data dir', () => {
  it('is kept from the first start: a start without a count reopens with it', async () => {
    let engine = await start({ partitions: 8 });
    await engine.submit(KEYED.map(({ key, event }) => event(key)));
    expect(engine.read('$partitions')).toBe(8);
    await stop(engine);
    engine = await start();
    expect(engine.layout()).toEqual({ partitions: 8, workers: [{ worker: 0, partitions: [0, 1, 2, 3, 4, 5, 6, 7] }] });
    expect(engine.stats().partitions).toHaveLength(8);
  });

  it('refuses another count with PartitionCountMismatchError, writing nothing, and frees the dir', async () => {
    const engine = await start();
    await engine.submit(KEYED.map(({ key, event }) => event(key)));
    // the followers' reactions too, which a later start must find counted
    await engine.idle();
    const before = checkpoints(engine);
    await stop(engine);
    const hash = dataFileHash();

    const refusal = await start({ partitions: 64 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(PartitionCountMismatchError);
    expect(refusal).toMatchObject({ dir, stored: 32, requested: 64 });
    expect((refusal as Error).message).toBe(`data dir ${dir} was created with 32 partitions, which is fixed for its lifetime; 64 were asked for`);
    expect(dataFileHash()).toBe(hash);

    // Refused without keeping the dir: the stored count, asked for or not, opens it as it was.
    const again = await start({ partitions: 32 });
    expect(checkpoints(again)).toEqual(before);
  });

  it('refuses counts outside 1..1024', async () => {
    for (const partitions of [0, 1025, 2.5]) {
      await expect(start({ partitions }), String(partitions)).rejects.toThrow(/partitions must be an integer from 1 to 1024/);
    }
    expect((await start({ partitions: 1024 })).layout().partitions).toBe(1024);
  });

  it('is 16 for a data dir made before the count was kept (an epoch, no $partitions)', async () => {
    // What the older version left: 16 partitions' checkpoints and an epoch, no count.
    let engine = await start({ partitions: 16 });
    await engine.submit(KEYED.map(({ key, event }) => event(key)));
    // the followers' reactions too, which a later start must find counted
    await engine.idle();
    const before = checkpoints(engine);
    const epoch = engine.epoch;
    await stop(engine);
    const store = new StateStore({ path: dir, durability: 'none', cacheEntries: 10 });
    await store.state.remove('$partitions');
    await store.close();

    const refusal = await start({ partitions: 32 }).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ stored: 16, requested: 32 });
    engine = await start();
    expect(engine.epoch).toBe(epoch);
    expect(engine.layout().partitions).toBe(16);
    expect(checkpoints(engine)).toEqual(before);
    // Now kept, so the next start needs no guess.
    expect(engine.read('$partitions')).toBe(16);
  });

  it('omni serve --partitions with another count exits 1 saying what the dir keeps and what to do', async () => {
    await stop(await start());
    const stderr: string[] = [];
    const io: CliIO = { env: {}, out: () => {}, err: (line) => stderr.push(line) };
    expect(await main(['serve', '--data', dir, '--secret', 'partitions-test', '--port', '0', '--partitions', '8'], io)).toBe(1);
    expect(stderr.join('\n')).toBe(
      `omni: data dir ${dir} was created with 32 partitions, which is fixed for its lifetime; 8 were asked for; start without --partitions (it keeps 32), or use a new --data dir for 8`,
    );
    // And the dir was given back.
    expect((await start()).layout().partitions).toBe(32);
  });
});

describe('the partitions over HTTP', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('/metrics has each partition\'s queue depth, apply time and checkpoint, idle partitions included', async () => {
    // 400 more events on TSHIRT-M's partition: with 1 in 16 timed at random, the chance that none
    // of them is timed is (15/16)^400, about 6e-12.
    const hot = Array.from({ length: 400 }, (_, i) => ({ id: `hot ${i}`, type: 'stock.received', sku: 'TSHIRT-M', location: 'berlin-1', qty: 1 }));
    const answer = await postJson(server.url, [...KEYED.map(({ key, event }) => event(key)), ...hot], bearer(server.token('ingest')));
    expect(answer.status).toBe(200);
    // the customer domain's reactions to the receipts, on its partition
    await server.engine.idle();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string, p: number) => Number(new RegExp(`^${name}\\{partition="${p}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    for (let p = 0; p < 32; p++) {
      const applied = (expectedMoves(KEYED, answer.body.results)[p] ?? 0) + (p === 15 ? hot.length : 0);
      expect(value('omni_partition_checkpoint', p), `partition ${p}`).toBe(applied);
      expect(value('omni_partition_queue_depth', p), `partition ${p}`).toBe(0);
      if (applied === 0) expect(value('omni_partition_apply_seconds_total', p), `partition ${p}`).toBe(0);
    }
    expect(value('omni_partition_apply_seconds_total', 15)).toBeGreaterThan(0);
    expect(text).toMatch(/^# TYPE omni_partition_apply_seconds_total counter$/m);
  });

  it('GET /v1/cluster shows the layout to supervisors and admins only', async () => {
    // With two engine threads (the project "engine on its own thread"), each applies every other partition.
    const all = Array.from({ length: 32 }, (_, p) => p);
    const workers = ENGINE_ON_ITS_OWN_THREAD ? [0, 1].map((w) => ({ worker: w, partitions: all.filter((p) => p % 2 === w) })) : [{ worker: 0, partitions: all }];
    const layout = { cluster: null, node: hostname(), partitions: 32, workers };
    for (const role of ['supervisor', 'admin'] as const) {
      const answer = await getJson(server.url, '/v1/cluster', bearer(server.token(role)));
      expect(answer.status, role).toBe(200);
      expect(answer.body, role).toEqual(layout);
    }
    for (const role of ['ingest', 'agent', 'customer', 'kiosk'] as const) {
      const answer = await getJson(server.url, '/v1/cluster', bearer(server.token(role)));
      expect(answer.status, role).toBe(403);
      expect(answer.body.error.code, role).toBe('forbidden');
    }
    expect((await getJson(server.url, '/v1/cluster')).status).toBe(401);
    expect((await getJson(server.url, '/v1/cluster', bearer('not-a-token'))).status).toBe(401);
  });
});
