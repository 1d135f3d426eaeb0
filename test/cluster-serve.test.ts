// `omni serve --nats` against a real nats-server: a node joins, owns every partition alone, is
// ready, answers events through the cluster's log with the answers the embedded server gives,
// and reports the cluster on GET /v1/cluster; with NATS killed -9 it refuses events with 503
// `unavailable` and takes them again by itself once NATS is back; a second node started with
// another partition count refuses to start, saying why.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { signToken } from '../gateway/mod.ts';
import { clusterServe } from './fixtures/cluster-serve.ts';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';

const SECRET = 'cluster-serve-test-secret-0123456789';
const supervisor = signToken({ sub: 'boss', role: 'supervisor' }, SECRET);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopNatsServers();
});

const { startNode, post } = clusterServe('cluster-serve', SECRET, cleanups);

const until = (what: string, check: () => Promise<boolean>) => vi.waitFor(async () => expect(await check(), what).toBe(true), { timeout: 30_000, interval: 100 });

describe('omni serve --nats', () => {
  it('joins, answers events through the log, reports the cluster, and refuses events while NATS is away', async () => {
    const nats = await startNatsServer();
    const node = await startNode(nats.url, 'n1', ['--partitions', '8']);
    const url = await node.listening;
    await until('/readyz is 200', async () => (await fetch(`${url}/readyz`)).status === 200);

    const first = await post(url, [
      { id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 },
      { id: 'r1', type: 'stock.received', sku: 'A', location: 'S1', qty: 5 },
      { id: 'bad', type: 'stock.received', sku: 'A', location: 'S1', qty: -1 },
    ]);
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error!.code))).toEqual(['ok', 'ok', 'invalid_event']);
    expect((await post(url, [{ id: 'r1', type: 'stock.received', sku: 'A', location: 'S1', qty: 5 }])).body.results[0]).toMatchObject({ ok: true, duplicate: true });
    const stock = await (await fetch(`${url}/v1/stock/A`)).json();
    expect(stock).toMatchObject({ sku: 'A', locations: { S1: { onHand: 5 } } });

    const cluster = await (await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${supervisor}` } })).json();
    expect(cluster).toEqual({ cluster: 'omni', node: 'n1', partitions: 8, nodes: [{ node: 'n1', alive: true, partitions: [0, 1, 2, 3, 4, 5, 6, 7] }] });

    // NATS gone: refused at once with 503, never answered as stored.
    await nats.kill();
    await until('an event is refused with 503 unavailable', async () => {
      const refused = await post(url, [{ id: 'r2', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 }]);
      return refused.status === 503 && refused.body.error?.code === 'unavailable';
    });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    // Back: events are taken again, and the one refused is applied once when sent again.
    await nats.restart();
    await until('events are taken again', async () => (await post(url, [{ id: 'r2', type: 'stock.received', sku: 'A', location: 'S1', qty: 1 }])).status === 200);
    expect(await (await fetch(`${url}/v1/stock/A`)).json()).toMatchObject({ locations: { S1: { onHand: 6 } } });
  });

  it('refuses to start a node with another partition count than the cluster was created with', async () => {
    const nats = await startNatsServer();
    const first = await startNode(nats.url, 'n1', ['--partitions', '8']);
    await first.listening;
    const second = await startNode(nats.url, 'n2', ['--partitions', '16']);
    await expect(second.listening).rejects.toThrow(/created with 8 partitions.*start it with --partitions 8/);
    expect(await second.exited).toBe(1);
  });
});
