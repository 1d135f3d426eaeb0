// One failover round of `omni bench cluster`: kill -9 a random live node while the load runs,
// time until it is served again — GET /v1/cluster on a survivor shows every partition held by a
// live node as the survivors share them, and a probe receipt on one of the killed node's
// partitions is acknowledged — then start it again on its data dir and port and wait until it
// holds its share back.

import { defaultProcessors, EventRouter } from '../../engine/mod.ts';
import { allOk, holders, postEvents, settled, startNode, type OmniNode } from './nodes.ts';
import { LOCATION } from './receipt-load.ts';

export interface KillRound {
  node: string;
  heldPartitions: number[];
  probePartition: number;
  /** Kill → every partition held by a live node, per the survivors' share. */
  settledMs: number;
  /** Kill → the probe receipt acknowledged. */
  probeMs: number;
  /** The later of the two: the killed node's partitions are served again. */
  servedAgainMs: number;
  /** Restart spawn → the three nodes hold their shares again. */
  rejoinMs: number;
}

export interface FailoverContext {
  /** The nodes by position; a restarted node replaces the killed one in place. */
  nodes: OmniNode[];
  /** The nodes the load posts to. */
  live: Set<OmniNode>;
  names: string[];
  partitions: number;
  ingest: string;
  supervisor: string;
  /** The load's acknowledged receipts per SKU: the probe's is added, so the exactly-once check covers it. */
  acked: Map<string, number>;
  probeId: string;
}

const POLL_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A SKU whose events the engine routes to `partition` (by its own partitioning, so it cannot drift). */
function skuOnPartition(partition: number, partitions: number): string {
  const router = new EventRouter(defaultProcessors({}), partitions);
  for (let i = 0; ; i++) {
    const sku = `PROBE-${partition}-${i}`;
    const routed = router.route({ id: 'x', type: 'stock.received', sku, location: LOCATION, qty: 1 });
    if ('partition' in routed && routed.partition === partition) return sku;
  }
}

async function until(check: () => Promise<boolean>, since: number, limitMs: number, what: string): Promise<number> {
  while (!(await check())) {
    if (performance.now() - since > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(POLL_MS);
  }
  return performance.now() - since;
}

export async function killAndRestart(c: FailoverContext): Promise<KillRound> {
  const candidates = [...c.live];
  let layout: Awaited<ReturnType<typeof holders>>;
  // A busy node may miss the 2 s a read of the layout is given: asked again, not guessed.
  await until(async () => (layout = await holders(candidates[0].url, c.supervisor)) !== undefined, performance.now(), 60_000, 'the cluster layout before the kill');
  const heldBy = (node: OmniNode) => [...layout!].filter(([, h]) => h.node === node.spec.label).map(([p]) => p).sort((a, b) => a - b);
  // Rendezvous hashing may give a node no partition (few partitions): killing it would time nothing.
  const holding = candidates.filter((n) => heldBy(n).length > 0);
  const victim = holding[Math.floor(Math.random() * holding.length)];
  if (!victim) throw new Error('no live node holds a partition before the kill');
  const survivors = candidates.filter((n) => n !== victim);
  const survivorNames = survivors.map((n) => n.spec.label);
  const heldPartitions = heldBy(victim);
  const probePartition = heldPartitions[Math.floor(Math.random() * heldPartitions.length)];
  const probeSku = skuOnPartition(probePartition, c.partitions);
  const probe = [{ id: c.probeId, type: 'stock.received', sku: probeSku, location: LOCATION, qty: 1 }];

  c.live.delete(victim);
  const killedAt = performance.now();
  victim.server.child.kill('SIGKILL');
  await victim.server.exited;
  const limitMs = 120_000;
  const [settledMs, probeMs] = await Promise.all([
    until(() => settled(survivors[0].url, c.supervisor, survivorNames, c.partitions), killedAt, limitMs, `${victim.spec.label}'s partitions held by the survivors`),
    // The same id each time: however many sends it takes, it is one receipt.
    until(async () => allOk(await postEvents(survivors[Math.floor(Math.random() * survivors.length)].url, c.ingest, probe, 5000).catch(() => undefined), 1), killedAt, limitMs, `a probe receipt on partition ${probePartition}`),
  ]);
  c.acked.set(probeSku, (c.acked.get(probeSku) ?? 0) + 1);

  const restartedAt = performance.now();
  const back = await startNode(victim.spec, victim.dir, victim.port);
  c.nodes[c.nodes.indexOf(victim)] = back;
  c.live.add(back);
  const rejoinMs = await until(() => settled(back.url, c.supervisor, c.names, c.partitions), restartedAt, limitMs, `${victim.spec.label} back with its share`);
  return { node: victim.spec.label, heldPartitions, probePartition, settledMs, probeMs, servedAgainMs: Math.max(settledMs, probeMs), rejoinMs };
}
