// Events through the cluster's event log, against a real nats-server: one node logs what it
// takes (cluster/log-ingest.ts), the partitions' owner applies the log into its engine and answers
// (cluster/partition-owner.ts). The answers and the state equal those of the engine taking the
// same requests in one process; an invalid event is answered without being logged; an answer that
// went to another node is asked for; and an owner that stops and starts again from its engine's
// committed position applies nothing twice.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectCluster, EventLog, LogIngest, PartitionOwner, STREAM_NAME, type ClusterConnection } from '../cluster/mod.ts';
import { defaultProcessors, EventRouter, openEngine, type Engine, type EventResult } from '../engine/mod.ts';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';

const PARTITIONS = 8;
const root = mkdtempSync(join(tmpdir(), 'omni-cluster-log-engine-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, String(++dirs));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopNatsServers();
});

async function node(url: string, name: string): Promise<{ conn: ClusterConnection; log: EventLog }> {
  const conn = await connectCluster({ servers: [url], name });
  cleanups.push(() => conn.close());
  return { conn, log: await EventLog.open(conn, { partitions: PARTITIONS }) };
}

async function engineAt(path: string): Promise<Engine> {
  const engine = await openEngine({ path, processors: defaultProcessors({}), partitions: PARTITIONS, autoTimers: false });
  cleanups.push(() => engine.close());
  return engine;
}

function ownAll(conn: ClusterConnection, log: EventLog, engine: Engine): PartitionOwner[] {
  const owners = Array.from({ length: PARTITIONS }, (_, partition) => new PartitionOwner(conn, log, engine, { partition }));
  cleanups.push(() => Promise.all(owners.map((o) => o.stop())).then(() => {}));
  return owners;
}

function ingest(conn: ClusterConnection, log: EventLog, nodeId: string, answerWaitMs?: number): LogIngest {
  const taker = new LogIngest(conn, log, new EventRouter(defaultProcessors({}), PARTITIONS), { nodeId, answerWaitMs });
  cleanups.push(() => taker.close());
  return taker;
}

/** A node owning every partition into its engine, and another taking events for them. */
async function ownerAndTaker() {
  const server = await startNatsServer();
  const owner = await node(server.url, 'owner');
  const taker = await node(server.url, 'taker');
  const engine = await engineAt(freshDir());
  ownAll(owner.conn, owner.log, engine);
  return { taker, engine, through: ingest(taker.conn, taker.log, 'taker') };
}

/** Times the clocks of two engines give (a hold's expiry) read alike. */
const timeless = (results: EventResult[]) => JSON.parse(JSON.stringify(results, (_k, v) => (typeof v === 'number' && v > 1e12 ? 'a time' : v)));

// Activity with its own time: recommendation scores decay with it.
const TS = Date.UTC(2026, 0, 1);
const REQUESTS: unknown[][] = [
  [
    { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 },
    ...['A', 'B', 'C', 'D'].map((sku, i) => ({ id: `r${i}`, type: 'stock.received', sku, location: 'S1', qty: 5 })),
  ],
  [
    { id: 'hold-1', type: 'stock.reserve', reservation: 'h1', sku: 'A', location: 'S1', qty: 2, ttlMs: 600_000 },
    { id: 'bad-1', type: 'stock.received', sku: 'A', location: 'S1', qty: -1 },
    { id: 'unknown-1', type: 'no.such.type' },
    { id: 'sold-1', type: 'stock.sold', sku: 'B', location: 'S1', qty: 9 },
    { id: 'order-1', type: 'order.placed', order: 'o1', customer: 'c1', lines: [{ sku: 'C', qty: 1 }, { sku: 'D', qty: 2 }], pickup: 'S1' },
  ],
  [
    { id: 'r0', type: 'stock.received', sku: 'A', location: 'S1', qty: 5 },
    { id: 'r1', type: 'stock.received', sku: 'B', location: 'S1', qty: 6 },
    { id: 'v1', type: 'activity.viewed', subject: 'device:d1', channel: 'web', sku: 'A', ts: TS },
    { id: 'k1', type: 'identity.linked', ids: ['device:d1', 'email:a@x'], customer: 'c1' },
    { id: 'v2', type: 'activity.carted', subject: 'device:d1', channel: 'app', sku: 'B', ts: TS + 1000 },
  ],
];

describe('events through the event log, applied by their partitions\' owner', () => {
  it('are answered as the engine in one process answers the same requests, and leave the same state', async () => {
    const { taker, engine, through } = await ownerAndTaker();
    const local = await engineAt(freshDir());
    for (const request of REQUESTS) {
      const [logged, direct] = [await through.submit(request), await local.submit(request)];
      expect(timeless(logged), JSON.stringify(request)).toEqual(timeless(direct));
    }
    for (const topic of ['stock/A', 'stock/B', 'stock/C', 'stock/D', 'recs/c1']) expect(engine.snapshot(topic)?.data, topic).toEqual(local.snapshot(topic)?.data);
    // Invalid events were answered by the taking node and never logged; the retry of r0 (same
    // content) is stored once, r1 sent again with other content (an id_conflict) twice.
    const valid = REQUESTS.flat().filter((e) => !['bad-1', 'unknown-1'].includes((e as { id: string }).id)).length;
    expect((await taker.conn.jsm.streams.info(STREAM_NAME)).state.messages).toBe(valid - 1);
  });

  it('answers a retry logged before by another node by asking the owner, and applies it once', async () => {
    const server = await startNatsServer();
    const owner = await node(server.url, 'owner');
    const first = await node(server.url, 'first');
    const second = await node(server.url, 'second');
    const engine = await engineAt(freshDir());
    ownAll(owner.conn, owner.log, engine);
    const request = [
      { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 },
      { id: 'r1', type: 'stock.received', sku: 'A', location: 'S1', qty: 5 },
    ];
    const original = await ingest(first.conn, first.log, 'first').submit(request);
    expect(original.every((r) => r.ok)).toBe(true);
    // The log keeps the first copy (same msgID): the owner's answer goes to `first`, so `second` asks.
    const retried = await ingest(second.conn, second.log, 'second', 100).submit(request);
    expect(retried).toEqual(original.map((r) => ({ ...r, duplicate: true })));
    expect(engine.snapshot('stock/A')?.data).toMatchObject({ locations: { S1: { onHand: 5 } } });
    expect((await first.conn.jsm.streams.info(STREAM_NAME)).state.messages).toBe(2);
  });

  it('goes on from the committed position after its owner stops: waiting requests are answered, nothing applied twice', async () => {
    const server = await startNatsServer();
    const owner = await node(server.url, 'owner');
    const taker = await node(server.url, 'taker');
    const path = freshDir();
    let engine = await engineAt(path);
    let owners = ownAll(owner.conn, owner.log, engine);
    const through = ingest(taker.conn, taker.log, 'taker');
    await through.submit([{ id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 }]);
    const receipts = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ id: `r${from + i}`, type: 'stock.received', sku: 'A', location: 'S1', qty: 1 }));
    expect((await through.submit(receipts(0, 20))).every((r) => r.ok)).toBe(true);
    // The owner goes (its engine closed too); requests logged meanwhile wait for the next one.
    await Promise.all(owners.map((o) => o.stop()));
    await engine.close();
    const waiting = through.submit(receipts(20, 30));
    engine = await engineAt(path);
    owners = ownAll(owner.conn, owner.log, engine);
    expect((await waiting).every((r) => r.ok && !r.duplicate)).toBe(true);
    expect(engine.snapshot('stock/A')?.data).toMatchObject({ locations: { S1: { onHand: 30 } } });
    const seqs = (await taker.conn.jsm.streams.info(STREAM_NAME)).state.last_seq;
    expect(owners.map((_, p) => engine.logPosition(p)).reduce((a, b) => Math.max(a, b))).toBe(seqs);
  });

  it('logs a reservation only after the events of other partitions before it in its request are answered', async () => {
    const { taker, engine, through } = await ownerAndTaker();
    await through.submit([{ id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 }]);
    // Receipt and reservation in one request, on different partitions: were the reservation
    // logged (and committed) first, a crash could apply its hold before the receipt.
    const requests = Array.from({ length: 12 }, (_, i) => [
      { id: `in-${i}`, type: 'stock.received', sku: `K${i}`, location: 'S1', qty: 2 },
      { id: `hold-${i}`, type: 'stock.reserve', reservation: `res-${i}`, sku: `K${i}`, qty: 2, ttlMs: 600_000 },
    ]);
    const answers = await Promise.all(requests.map((r) => through.submit(r)));
    expect(answers.flat().every((a) => a.ok)).toBe(true);
    const seqOf = new Map<string, number>();
    const last = (await taker.conn.jsm.streams.info(STREAM_NAME)).state.last_seq;
    for (let seq = 1; seq <= last; seq++) {
      const m = await taker.conn.jsm.streams.getMessage(STREAM_NAME, { seq });
      const id = /^e:(.*)#\d+$/.exec(m?.header?.get('Nats-Msg-Id') ?? '')?.[1];
      if (id !== undefined) seqOf.set(id, seq);
    }
    for (let i = 0; i < requests.length; i++) expect(seqOf.get(`hold-${i}`)!, `request ${i}`).toBeGreaterThan(seqOf.get(`in-${i}`)!);
  });
});
