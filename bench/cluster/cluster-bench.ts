// `omni bench cluster`: the same closed-loop HTTP load of stock.received events against one
// embedded `omni serve` and against a cluster of three `omni serve --nats` nodes on one
// nats-server (ingest.ts's figures side by side); then, with the load still running on the
// cluster, a node killed with SIGKILL K times and started again on its data dir and port, timed
// from the kill until its partitions are served again (failover.ts); last, every node must count
// every acknowledged receipt exactly once.

import { randomBytes } from 'node:crypto';
import { signToken } from '../../gateway/mod.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { startNatsServer } from '../shared/nats-server.ts';
import { fmtInt, fmtLatency, fmtMs, median, printTable, type LatencySummary } from '../shared/report.ts';
import { removeDir } from '../shared/server-process.ts';
import { killAndRestart, type KillRound } from './failover.ts';
import { allOk, onHand, postEvents, settled, startNode, type NodeSpec, type OmniNode } from './nodes.ts';
import { LOCATION, ReceiptLoad, type LoadWindow } from './receipt-load.ts';

export const CLUSTER_FLAGS: FlagSpec[] = [
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured ingest time per target (default 15)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'load before each measured window, not counted (default 3)' },
  { name: 'posters', kind: 'value', valueName: 'P', help: 'concurrent posters, one request in flight each (default 8)' },
  { name: 'batch', kind: 'value', valueName: 'N', help: 'events per request (default 10)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs the receipts go to (default 64)' },
  { name: 'partitions', kind: 'value', valueName: 'N', help: "every server's --partitions (default 8)" },
  { name: 'kills', kind: 'value', valueName: 'K', help: 'nodes killed with SIGKILL under load, one at a time (default 5; 0: ingest only)' },
  { name: 'target', kind: 'value', valueName: 'MS', help: 'the failover target the figures are held against (default 5000)' },
];

export const CLUSTER_HELP = `Usage: omni bench cluster [flags]

Needs nats-server (Debian: apt-get install -y nats-server). Everything runs on this machine:

1. Ingest: P posters, each posting a batch of N stock.received events and waiting for the answer
   (sent once committed), against one embedded "omni serve --workers 1 --durability commit",
   then against three "omni serve --nats … --workers 1 --durability commit" nodes on one
   JetStream nats-server, posting to the nodes in turn. Acknowledged events/s and request
   latency p50/p99 of each, and the cluster's ratio to the embedded server.
2. Failover: with the load still running on the cluster, K times: kill -9 a random node, time
   until GET /v1/cluster on a survivor shows every partition held by a live node (the share
   rendezvous hashing gives the survivors) and a probe receipt on one of the killed node's
   partitions is acknowledged ("served again"), then start the node again on its data dir and
   port and wait until it holds its share back. Median and max against the target.
3. Exactly once: GET /v1/stock/:sku on every node (and on the embedded server) equals the
   receipts acknowledged for that SKU: PASS or FAIL.

Batches not fully acknowledged are sent again with the same ids until they are.

Flags:
${describeFlags(CLUSTER_FLAGS)}`;

export interface ClusterBenchOptions {
  seconds: number;
  warmupSeconds: number;
  posters: number;
  batch: number;
  skus: number;
  partitions: number;
  kills: number;
  targetMs: number;
}

export function readClusterOptions(argv: readonly string[]): ClusterBenchOptions | 'help' {
  const f = readFlags(argv, CLUSTER_FLAGS);
  if (f.help) return 'help';
  return {
    seconds: f.num('seconds', 15, 0.5, 3600),
    warmupSeconds: f.num('warmup', 3, 0, 600),
    posters: f.int('posters', 8, 1, 256),
    batch: f.int('batch', 10, 1, 1000),
    skus: f.int('skus', 64, 1, 100_000),
    partitions: f.int('partitions', 8, 2, 256),
    kills: f.int('kills', 5, 0, 100),
    targetMs: f.num('target', 5000, 1, 600_000),
  };
}

export interface ClusterBenchResult {
  options: ClusterBenchOptions;
  embedded: LoadWindow;
  cluster: LoadWindow;
  /** Cluster events/s ÷ embedded events/s. */
  ratio: number;
  kills: KillRound[];
  servedAgainMedianMs: number;
  servedAgainMaxMs: number;
  receiptsAcked: number;
  /** Every node (and the embedded server) counts every acknowledged receipt once. */
  exactlyOnce: boolean;
  mismatches: string[];
}

const NAMES = ['n1', 'n2', 'n3'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Warm-up, then the measured window, of `load` (already pointed at its targets). */
async function measure(label: string, load: ReceiptLoad, o: ClusterBenchOptions): Promise<LoadWindow> {
  load.start(o.posters);
  await sleep(o.warmupSeconds * 1000);
  load.resetWindow();
  await sleep(o.seconds * 1000);
  const window = load.window();
  console.log(`  ${label.padEnd(9)}: ${fmtInt(window.eventsPerSecond)} events/s acked, ${fmtLatency(window.latency)}${window.retries ? `, ${window.retries} requests sent again` : ''}`);
  return window;
}

/** Every SKU's on-hand on every node equals its acknowledged receipts (given time for copies to catch up). */
async function countedOnce(nodes: OmniNode[], acked: ReadonlyMap<string, number>): Promise<string[]> {
  let mismatches: string[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    mismatches = [];
    for (const node of nodes) {
      for (const [sku, want] of acked) {
        const got = await onHand(node.url, sku, LOCATION);
        if (got !== want) mismatches.push(`${sku} on ${node.spec.label}: ${got ?? 'none'}, acknowledged ${want}`);
      }
    }
    if (mismatches.length === 0 || Date.now() > deadline) return mismatches;
    await sleep(250);
  }
}

export async function runClusterBench(o: ClusterBenchOptions, runNo: number): Promise<ClusterBenchResult> {
  const secret = randomBytes(24).toString('base64url');
  const ingest = signToken({ sub: 'bench', role: 'ingest' }, secret);
  const supervisor = signToken({ sub: 'bench', role: 'supervisor' }, secret);
  const skus = Array.from({ length: o.skus }, (_, i) => `CL-${i}`);
  const location = [{ id: `loc-${runNo}`, type: 'location.upserted', location: LOCATION, kind: 'store', lat: 50, lon: 10 }];
  const seed = async (url: string) => {
    if (!allOk(await postEvents(url, ingest, location, 30_000), 1)) throw new Error(`${url} refused location ${LOCATION}`);
  };

  console.log(`\n1. ingest: ${o.posters} posters × batches of ${o.batch} stock.received, ${o.warmupSeconds} s warm-up + ${o.seconds} s, --workers 1 --durability commit --partitions ${o.partitions}`);
  const mismatches: string[] = [];
  const loads: ReceiptLoad[] = [];
  const embeddedNode = await startNode({ label: 'embedded', partitions: o.partitions, secret });
  let embedded: LoadWindow;
  try {
    await seed(embeddedNode.url);
    const load = new ReceiptLoad(() => [embeddedNode.url], ingest, skus, o.batch, `e${runNo}`);
    loads.push(load);
    embedded = await measure('embedded', load, o);
    await load.stop();
    mismatches.push(...(await countedOnce([embeddedNode], load.acked)));
  } finally {
    for (const load of loads) load.abandon();
    await embeddedNode.server.stop();
    removeDir(embeddedNode.dir);
  }

  const nats = await startNatsServer(`cluster-${runNo}`);
  const nodes: OmniNode[] = [];
  try {
    const specs: NodeSpec[] = NAMES.map((label) => ({ label, partitions: o.partitions, secret, nats: nats.url }));
    nodes.push(...(await Promise.all(specs.map((spec) => startNode(spec)))));
    await waitFor('the three nodes share the partitions', () => settled(nodes[0].url, supervisor, NAMES, o.partitions));
    await seed(nodes[0].url);
    const live = new Set(nodes);
    const load = new ReceiptLoad(() => [...live].map((n) => n.url), ingest, skus, o.batch, `c${runNo}`);
    loads.push(load);
    const cluster = await measure('3 nodes', load, o);
    const ratio = cluster.eventsPerSecond / embedded.eventsPerSecond;
    console.log(`  cluster ÷ embedded: ${ratio.toFixed(2)}× events/s, p50 ${fmtMs(cluster.latency.p50Ms)} vs ${fmtMs(embedded.latency.p50Ms)} ms, p99 ${fmtMs(cluster.latency.p99Ms)} vs ${fmtMs(embedded.latency.p99Ms)} ms`);

    if (o.kills > 0) console.log(`\n2. failover: ${o.kills} × kill -9 of a random node under the same load, restarted on its data dir and port each time`);
    const kills: KillRound[] = [];
    for (let k = 0; k < o.kills; k++) {
      await sleep(1000 + Math.random() * 1000);
      kills.push(await killAndRestart({ nodes, live, names: NAMES, partitions: o.partitions, ingest, supervisor, acked: load.acked, probeId: `probe-${runNo}-${k}` }));
      const r = kills[k];
      console.log(`  kill ${k + 1}: ${r.node} (held ${r.heldPartitions.join(',')}): served again after ${fmtInt(r.servedAgainMs)} ms (partitions held ${fmtInt(r.settledMs)} ms, probe on p${r.probePartition} acked ${fmtInt(r.probeMs)} ms); back with its share ${fmtInt(r.rejoinMs)} ms after its restart`);
    }
    await load.stop();
    const served = kills.map((r) => r.servedAgainMs);
    const receiptsAcked = [...load.acked.values()].reduce((a, b) => a + b, 0);
    console.log(`\n3. exactly once: ${fmtInt(receiptsAcked)} receipts acknowledged by the cluster; checking every SKU on every node`);
    mismatches.push(...(await countedOnce(nodes, load.acked)));
    const result: ClusterBenchResult = {
      options: o,
      embedded,
      cluster,
      ratio,
      kills,
      servedAgainMedianMs: median(served),
      servedAgainMaxMs: served.length ? Math.max(...served) : NaN,
      receiptsAcked,
      exactlyOnce: mismatches.length === 0,
      mismatches: mismatches.slice(0, 20),
    };
    printSummary(result);
    return result;
  } finally {
    for (const load of loads) load.abandon();
    await Promise.all(nodes.map((n) => n.server.stop()));
    for (const n of nodes) removeDir(n.dir);
    await nats.stop();
  }
}

function printSummary(r: ClusterBenchResult): void {
  const o = r.options;
  const row = (label: string, w: LoadWindow, l: LatencySummary) => [label, fmtInt(w.eventsPerSecond), fmtMs(l.p50Ms), fmtMs(l.p99Ms), fmtMs(l.maxMs)];
  console.log(`\nsummary (everything on this machine: three nodes, nats-server and the load generator share its cores)`);
  printTable([
    ['target', 'events/s', 'p50 ms', 'p99 ms', 'max ms'],
    row('embedded omni serve', r.embedded, r.embedded.latency),
    row('3-node cluster', r.cluster, r.cluster.latency),
  ]);
  console.log(`  cluster ÷ embedded: ${r.ratio.toFixed(2)}×`);
  if (r.kills.length > 0) {
    const verdict = r.servedAgainMaxMs <= o.targetMs ? 'every kill within' : r.servedAgainMedianMs <= o.targetMs ? 'median within, max over' : 'over';
    console.log(`  served again after kill -9: median ${fmtInt(r.servedAgainMedianMs)} ms, max ${fmtInt(r.servedAgainMaxMs)} ms over ${r.kills.length} kills (target ${fmtInt(o.targetMs)} ms: ${verdict})`);
  }
  console.log(`  every acknowledged receipt counted exactly once on every node: ${r.exactlyOnce ? 'PASS' : 'FAIL'}`);
  for (const m of r.mismatches) console.log(`    ${m}`);
}

export function clusterHeadline(r: ClusterBenchResult): Record<string, number> {
  return {
    embeddedEventsPerS: r.embedded.eventsPerSecond,
    clusterEventsPerS: r.cluster.eventsPerSecond,
    clusterToEmbedded: r.ratio,
    embeddedP99Ms: r.embedded.latency.p99Ms,
    clusterP99Ms: r.cluster.latency.p99Ms,
    ...(r.kills.length > 0 ? { servedAgainMedianMs: r.servedAgainMedianMs, servedAgainMaxMs: r.servedAgainMaxMs } : {}),
    exactlyOnce: r.exactlyOnce ? 1 : 0,
  };
}
