// Three real `omni serve --nats` processes on one nats-server: events posted to every node are
// answered as the embedded engine answers them, every node serves every SKU, and WebSocket
// subscribers on every node follow every SKU. Then, under load, a random node is killed with
// SIGKILL at a random moment, again and again: every acknowledged receipt is counted exactly once
// on every node, every SKU is served again, the subscribers on the surviving nodes see no silent
// gap, and the killed node, started again on its data dir, takes its share back.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort, freshDir, OMNI_BIN, removeDir, spawnServer, type ServerProcess } from '../bench/shared/server-process.ts';
import { ownerAmong } from '../cluster/mod.ts';
import { defaultProcessors, openEngine } from '../engine/mod.ts';
import { signToken } from '../gateway/mod.ts';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';
import { WsClient, type Msg } from './ws-harness.ts';

const SECRET = 'cluster-e2e-test-secret-0123456789abc';
const INGEST = signToken({ sub: 'till', role: 'ingest' }, SECRET);
const SUPERVISOR = signToken({ sub: 'boss', role: 'supervisor' }, SECRET);
const PARTITIONS = 8;
const SKUS = Array.from({ length: 12 }, (_, i) => `SKU-${i}`);
/** Kills in the failover test. */
const KILLS = Number(process.env.OMNI_CLUSTER_KILLS ?? 10);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopNatsServers();
});

interface Node {
  name: string;
  dir: string;
  port: number;
  server: ServerProcess;
  url: string;
}

async function startNode(nats: string, name: string, dir = freshDir(`cluster-e2e-${name}`), port?: number): Promise<Node> {
  port ??= await freePort();
  const argv = [OMNI_BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', dir, '--nats', nats, '--node', name, '--partitions', String(PARTITIONS), '--workers', process.env.OMNI_CLUSTER_WORKERS ?? '1', '--durability', 'commit'];
  const server = spawnServer(`omni serve ${name}`, argv, { OMNI_SECRET: SECRET });
  cleanups.push(() => server.stop());
  return { name, dir, port, server, url: await server.listening };
}

async function post(url: string, events: unknown[]): Promise<{ status: number; results: Array<Record<string, any>> }> {
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/json' }, body: JSON.stringify(events) });
  const body = (await res.json()) as { results?: Array<Record<string, any>> };
  return { status: res.status, results: body.results ?? [] };
}

async function clusterOf(url: string): Promise<{ nodes: Array<{ node: string; alive: boolean; partitions: number[] }> }> {
  return (await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${SUPERVISOR}` } })).json() as never;
}

const until = (what: string, check: () => Promise<boolean> | boolean, timeout = 60_000) => vi.waitFor(async () => expect(await check(), what).toBe(true), { timeout, interval: 100 });

/** Every partition held by the node rendezvous hashing gives it among `names`, alive, as `url` sees it. */
async function settled(url: string, names: string[]): Promise<boolean> {
  const view = await clusterOf(url).catch(() => undefined);
  if (!view?.nodes) return false;
  const holderOf = new Map<number, { node: string; alive: boolean }>();
  for (const n of view.nodes) for (const p of n.partitions) holderOf.set(p, n);
  return Array.from({ length: PARTITIONS }, (_, p) => p).every((p) => holderOf.get(p)?.node === ownerAmong(p, names) && holderOf.get(p)?.alive);
}

const onHand = async (url: string, sku: string) => ((await (await fetch(`${url}/v1/stock/${sku}`)).json()) as { locations?: Record<string, { onHand: number }> }).locations?.S1?.onHand;

/** Subscribes to every SKU's topic; checks later that each topic's seqs never skip without a snapshot. */
async function follower(node: Node): Promise<{ client: WsClient; checkNoSilentGap(): void }> {
  const client = await WsClient.open(`ws://127.0.0.1:${node.port}/v1/ws`);
  cleanups.push(() => void client.close());
  for (const sku of SKUS) await client.sub(`stock/${sku}`);
  return {
    client,
    checkNoSilentGap() {
      for (const sku of SKUS) {
        let last: Msg | undefined;
        for (const m of client.messages.filter((x) => x.topic === `stock/${sku}` && (x.op === 'snapshot' || x.op === 'update'))) {
          // A snapshot may restart the count (a new epoch); an update must follow its predecessor.
          if (m.op === 'update' && last !== undefined) {
            const seen = client.messages.filter((x) => x.topic === `stock/${sku}`).map((x) => `${x.op[0]}${x.seq}`);
            expect(m.seq, `stock/${sku} on ${node.name}: ${seen.join(' ')}`).toBe(last.seq + 1);
          }
          last = m;
        }
      }
    },
  };
}

describe('a cluster of three omni serve processes', () => {
  it('answers as the embedded engine, serves every SKU on every node, and survives nodes killed -9 under load', async () => {
    const nats = await startNatsServer();
    const names = ['n1', 'n2', 'n3'];
    const nodes = await Promise.all(names.map((n) => startNode(nats.url, n)));
    await until('the three share the partitions', () => settled(nodes[0].url, names));

    // The same requests through the nodes in turn and through one embedded engine.
    const embedded = await openEngine({ path: freshDir('cluster-e2e-embedded'), processors: defaultProcessors({}), partitions: PARTITIONS, autoTimers: false });
    cleanups.push(() => embedded.close());
    const requests: unknown[][] = [
      [{ id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 }],
      SKUS.map((sku, i) => ({ id: `r0-${i}`, type: 'stock.received', sku, location: 'S1', qty: 3 })),
      [{ id: 'o1', type: 'order.placed', order: 'o1', lines: [{ sku: SKUS[0], qty: 2 }, { sku: SKUS[5], qty: 1 }, { sku: SKUS[9], qty: 3 }], pickup: 'S1' }],
      [{ id: 'o2', type: 'order.placed', order: 'o2', lines: [{ sku: SKUS[0], qty: 2 }, { sku: SKUS[5], qty: 1 }], pickup: 'S1' }],
      [{ id: 'bad', type: 'stock.sold', sku: SKUS[1], location: 'S1', qty: 0 }, { id: 'r0-1', type: 'stock.received', sku: SKUS[1], location: 'S1', qty: 3 }],
    ];
    const strip = (results: unknown) => JSON.parse(JSON.stringify(results));
    for (const [k, request] of requests.entries()) {
      const through = await post(nodes[k % 3].url, request);
      expect(through.status).toBe(200);
      expect(strip(through.results), JSON.stringify(request)).toEqual(strip(await embedded.submit(request)));
    }
    // Every node serves every SKU (its own partitions, and the others' from the changelog).
    // Every node serves every SKU (its own partitions, and the others' from the changelog), with
    // the owner's seq, and the data the embedded engine has.
    const stockAt = async (node: Node, sku: string) => (await (await fetch(`${node.url}/v1/stock/${sku}`)).json()) as Record<string, unknown>;
    for (const sku of SKUS) {
      const want = JSON.stringify(embedded.snapshot(`stock/${sku}`)?.data);
      await until(`${sku} the same on every node`, async () => {
        const seen = await Promise.all(nodes.map((n) => stockAt(n, sku)));
        return seen.every((b) => JSON.stringify(b) === JSON.stringify(seen[0])) && JSON.stringify({ ...seen[0], seq: undefined }) === want;
      });
    }

    // Failover under load: receipts of one unit, each retried (same id) until acknowledged.
    const followers = await Promise.all(nodes.map(follower));
    const acked = new Map<string, number>(SKUS.map((s) => [s, 0]));
    let running = true;
    let next = 0;
    const live = new Set(nodes);
    const load = (async () => {
      while (running) {
        const sku = SKUS[next % SKUS.length];
        const event = { id: `u-${next++}`, type: 'stock.received', sku, location: 'S1', qty: 1 };
        for (;;) {
          const via = [...live][next % live.size];
          const answer = await post(via.url, [event]).catch(() => undefined);
          if (answer?.status === 200 && answer.results[0]?.ok) {
            acked.set(sku, acked.get(sku)! + 1);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    })();
    const rounds: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700));
      const victim = [...live][Math.floor(Math.random() * live.size)];
      live.delete(victim);
      const killedAt = Date.now();
      victim.server.child.kill('SIGKILL');
      await victim.server.exited;
      const survivors = [...live];
      await until(`${victim.name}'s partitions served by the others`, () => settled(survivors[0].url, survivors.map((n) => n.name)));
      const servedAfter = Date.now() - killedAt;
      // Back on its data dir and port: it takes its share again.
      const back = await startNode(nats.url, victim.name, victim.dir, victim.port);
      nodes[nodes.indexOf(victim)] = back;
      live.add(back);
      await until(`${victim.name} takes its share back`, () => settled(back.url, names));
      rounds.push(`${victim.name}: served again after ${servedAfter} ms`);
    }
    running = false;
    await load;
    console.log(`cluster failover: ${rounds.join('; ')}; ${next} receipts`);

    // Exactly once: 3 + the order holds aside, each SKU's on-hand is its acknowledged receipts, on every node.
    const base = (sku: string) => (embedded.snapshot(`stock/${sku}`)?.data as { locations: { S1: { onHand: number } } }).locations.S1.onHand;
    for (const node of nodes) for (const sku of SKUS) await until(`${sku} on ${node.name} counts every receipt once`, async () => (await onHand(node.url, sku)) === base(sku) + acked.get(sku)!);
    for (const f of followers) f.checkNoSilentGap();
    await Promise.all(nodes.map((n) => removeDir(n.dir)));
    // Ten rounds of kill, takeover, restart and rejoin: about 8 s each on a loaded 2-core machine.
  }, 300_000);
});
