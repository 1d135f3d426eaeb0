// Nodes of a cluster against a real nats-server (cluster/node.ts): the first node owns every
// partition; a second one joining gets its rendezvous share, the first giving it up; events taken
// by either node are applied once by whichever owns their partition; and when a node stops
// without a word (its leases left to expire), the other takes its partitions back and applies
// their log from the position its own engine committed, so every SKU ends with every receipt
// counted exactly once on the node that owns it.
//
// An order with lines at SKUs of both nodes is all or nothing across them: its holds travel as
// derived events through the other node's partition logs, and its answer comes from the node
// owning the order. The store every SKU's events read is declared once, through one node: the
// other applies it from the changelog before any event logged after its answer.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ClusterNode, connectCluster, ownerAmong } from '../cluster/mod.ts';
import { defaultProcessors, EventRouter, openEngine, type Engine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';

const PARTITIONS = 8;
const SKUS = Array.from({ length: 16 }, (_, i) => `SKU-${i}`);
const root = mkdtempSync(join(tmpdir(), 'omni-cluster-node-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopNatsServers();
});

const STORE = { id: 'store-s1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 };

async function startNode(url: string, nodeId: string, cluster?: string): Promise<{ node: ClusterNode; engine: Engine }> {
  const conn = await connectCluster({ servers: [url], name: nodeId, cluster });
  cleanups.push(() => conn.close());
  const engine = await openEngine({ path: join(root, `${++dirs}-${nodeId}`), processors: defaultProcessors({}), partitions: PARTITIONS, autoTimers: false });
  cleanups.push(() => engine.close());
  const node = await ClusterNode.start(conn, engine, new EventRouter(defaultProcessors({}), PARTITIONS), {
    nodeId,
    partitions: PARTITIONS,
    leaseTtlMs: 2_000,
    maxClockSkewMs: 300,
    heartbeatMs: 200,
    answerWaitMs: 500,
  });
  cleanups.push(() => node.stop());
  return { node, engine };
}

const receipts = (round: number) => SKUS.map((sku) => ({ id: `${round}-${sku}`, type: 'stock.received', sku, location: 'S1', qty: 1 }));
const until = (what: string, done: () => boolean) => vi.waitFor(() => expect(done(), what).toBe(true), { timeout: 30_000, interval: 25 });
const all = Array.from({ length: PARTITIONS }, (_, p) => p);

describe('nodes of a cluster', () => {
  it('share the partitions by rendezvous, apply what either takes once, and take a silent node\'s share back', async () => {
    const server = await startNatsServer();
    const a = await startNode(server.url, 'node-a');
    await until('node-a owns every partition', () => a.node.owned().length === PARTITIONS);
    expect(await a.node.submit([STORE])).toMatchObject([{ ok: true }]);
    expect((await a.node.submit(receipts(0))).every((r) => r.ok)).toBe(true);

    const b = await startNode(server.url, 'node-b');
    const shareOf = (id: string) => all.filter((p) => ownerAmong(p, ['node-a', 'node-b']) === id);
    await until('the two own their rendezvous shares', () => JSON.stringify([a.node.owned(), b.node.owned()]) === JSON.stringify([shareOf('node-a'), shareOf('node-b')]));
    expect(shareOf('node-a').length).toBeGreaterThan(0);
    expect(shareOf('node-b').length).toBeGreaterThan(0);
    for (let round = 1; round <= 4; round++) {
      const via = round % 2 === 0 ? a.node : b.node;
      expect((await via.submit(receipts(round))).every((r) => r.ok && !r.duplicate)).toBe(true);
    }

    // node-b keeps a copy of node-a's partitions: every SKU, whoever owns it, reads the same there.
    for (const sku of SKUS) await until(`${sku} copied on node-b`, () => (b.engine.snapshot(`stock/${sku}`)?.data as { onHand?: number } | undefined)?.onHand === 5);
    // node-b goes silent: its leases expire; node-a takes its partitions back meanwhile asked for events.
    await b.node.stop({ release: false });
    const during = a.node.submit(receipts(5));
    await until('node-a owns every partition again', () => a.node.owned().length === PARTITIONS);
    expect((await during).every((r) => r.ok && !r.duplicate)).toBe(true);
    expect((await a.node.submit(receipts(6))).every((r) => r.ok)).toBe(true);
    // Every receipt counted once on the node owning the SKU now: node-a's engine for all of them.
    for (const sku of SKUS) expect(a.engine.snapshot(`stock/${sku}`)?.data, sku).toMatchObject({ locations: { S1: { onHand: 7 } } });
  });

  it('of two clusters sharing one NATS see neither each other nor each other\'s events', async () => {
    const server = await startNatsServer();
    const one = await startNode(server.url, 'node-a');
    const two = await startNode(server.url, 'node-a', 'second');
    await until('each owns every partition of its own cluster', () => one.node.owned().length === PARTITIONS && two.node.owned().length === PARTITIONS);
    for (const { node } of [one, two]) expect(await node.submit([STORE])).toMatchObject([{ ok: true }]);
    expect([one.node.nodes(), two.node.nodes()]).toEqual([['node-a'], ['node-a']]);
    expect((await one.node.submit(receipts(0))).every((r) => r.ok)).toBe(true);
    expect((await two.node.submit(receipts(0).slice(0, 1))).every((r) => r.ok && !r.duplicate)).toBe(true);
    // The same event ids in both: logged and applied once in each cluster, not taken as retries.
    for (const { engine } of [one, two]) expect(engine.snapshot('stock/SKU-0')?.data).toMatchObject({ locations: { S1: { onHand: 1 } } });
    await expect(connectCluster({ servers: [server.url], cluster: 'Not.Valid' })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('hold an order\'s lines on both nodes all or nothing, through each other\'s partition logs', async () => {
    const server = await startNatsServer();
    const a = await startNode(server.url, 'node-a');
    const b = await startNode(server.url, 'node-b');
    const nodes = ['node-a', 'node-b'];
    await until('the two own their shares', () => a.node.owned().length + b.node.owned().length === PARTITIONS && a.node.owned().length > 0 && b.node.owned().length > 0);
    const skuOf = (node: string) => SKUS.find((s) => ownerAmong(partitionOf(s, PARTITIONS), nodes) === node)!;
    const [onA, onB] = [skuOf('node-a'), skuOf('node-b')];
    const engineOf = (sku: string) => (ownerAmong(partitionOf(sku, PARTITIONS), nodes) === 'node-a' ? a.engine : b.engine);
    await b.node.submit([STORE]);
    await a.node.submit([
      { id: 'ra', type: 'stock.received', sku: onA, location: 'S1', qty: 5 },
      { id: 'rb', type: 'stock.received', sku: onB, location: 'S1', qty: 1 },
    ]);
    // Orders whose own partition is on either node.
    const orders = ['o-1', 'o-2', 'o-3', 'o-4', 'o-5', 'o-6'];
    const placed = (order: string) => ({ id: order, type: 'order.placed', order, lines: [{ sku: onA, qty: 2 }, { sku: onB, qty: 1 }], pickup: 'S1' });
    const first = await b.node.submit([placed(orders[0])]);
    expect(first[0]).toMatchObject({ ok: true, allocation: [{ sku: onA, qty: 2 }, { sku: onB, qty: 1 }] });
    // The rest find onB sold out: each refused whole, nothing of it held at onA.
    for (const order of orders.slice(1)) expect((await a.node.submit([placed(order)]))[0]).toMatchObject({ ok: false, error: { code: 'insufficient_stock' } });
    expect(new Set(orders.map((o) => ownerAmong(partitionOf(o, PARTITIONS), nodes))).size).toBe(2);
    // A refused order's hold at onA is released after its answer, on its way through the log.
    await until('the refused orders\' holds at onA are released', () => (engineOf(onA).snapshot(`stock/${onA}`)?.data as { reserved?: number } | undefined)?.reserved === 2);
    expect(engineOf(onA).snapshot(`stock/${onA}`)?.data).toMatchObject({ locations: { S1: { onHand: 5, reserved: 2 } } });
    expect(engineOf(onB).snapshot(`stock/${onB}`)?.data).toMatchObject({ locations: { S1: { onHand: 1, reserved: 1 } } });
  });
});
