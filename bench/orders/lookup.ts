// `omni bench order-get`: GET /v1/orders/:order latency through the real HTTP server (`omni serve`
// as a child process) when the data dir holds N orders. The data dir is built first: stores and
// stock, then `--sample` pickup orders through the engine (placed → ready → picked up: real
// records, and the rate a seeding through the engine would go at). With `--seed engine` every
// order goes that way; with `--seed direct` (the default) the rest are copies of a real record,
// each with its own id, customer, store and lines, written straight into the state database —
// what the GET reads is then what the engine writes, without waiting for N lifecycles. Then C
// keep-alive connections each GET a uniformly random stored order, one request at a time.

import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { open } from 'lmdb';
import { signToken } from '../../gateway/mod.ts';
import { LatencyRecorder, prng, type LatencyMs } from '../../loadgen/mod.ts';
import { openBenchEngine } from '../shared/bench-engine.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, fmtMs } from '../shared/report.ts';
import { freshDir, processCpuSeconds, removeDir, startServer } from '../shared/server-process.ts';
import { closedLoop } from './drive.ts';
import { setUpStock } from './lifecycle.ts';
import { OrderWorkload } from './workload.ts';

export const ORDER_GET_FLAGS: FlagSpec[] = [
  { name: 'orders', kind: 'value', valueName: 'N', help: 'orders stored before the GETs (default 1000000)' },
  { name: 'seed', kind: 'value', valueName: 'direct|engine', help: 'engine: every order through the engine; direct: a sample through it, the rest copied into the store (default direct)' },
  { name: 'sample', kind: 'value', valueName: 'N', help: 'orders taken through the engine before copying (default 5000)' },
  { name: 'skus', kind: 'value', valueName: 'N', help: 'SKUs (default 10000)' },
  { name: 'stores', kind: 'value', valueName: 'S', help: 'stores (default 20)' },
  { name: 'connections', kind: 'value', valueName: 'C', help: 'keep-alive connections, one GET in flight on each (default 4)' },
  { name: 'seconds', kind: 'value', valueName: 'S', help: 'measured GETs for this long (default 10)' },
  { name: 'warmup', kind: 'value', valueName: 'S', help: 'GETs before the measured ones, not counted (default 2)' },
  { name: 'workers', kind: 'value', valueName: 'N', help: "omni serve --workers N (default: the server's own, one per core)" },
];

export const ORDER_GET_HELP = `Usage: omni bench order-get [flags]

GET /v1/orders/:order against "omni serve" (a child process, fsync) on a data dir holding N
orders: C keep-alive connections, each GETs a uniformly random stored order and waits for the
whole answer before the next. Reports the latency (p50/p99/p999/max), requests/s and the server's
CPU, and how fast the orders went through the engine while the data dir was built.

Flags:
${describeFlags(ORDER_GET_FLAGS)}`;

export interface OrderGetOptions {
  orders: number;
  seed: 'direct' | 'engine';
  sample: number;
  skus: number;
  stores: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  workers?: number;
}

export function readOrderGetOptions(argv: readonly string[]): OrderGetOptions | 'help' {
  const f = readFlags(argv, ORDER_GET_FLAGS);
  if (f.help) return 'help';
  const orders = f.int('orders', 1_000_000, 1, 100_000_000);
  const workers = f.string('workers');
  return {
    orders,
    seed: f.choice('seed', 'direct', ['direct', 'engine'] as const),
    sample: Math.min(orders, f.int('sample', 5000, 1, 10_000_000)),
    skus: f.int('skus', 10_000, 3, 1_000_000),
    stores: f.int('stores', 20, 1, 1000),
    connections: f.int('connections', 4, 1, 1000),
    seconds: f.num('seconds', 10, 0.2, 3600),
    warmupSeconds: f.num('warmup', 2, 0, 600),
    workers: workers === undefined ? undefined : f.int('workers', 0, 1, 64),
  };
}

export interface OrderGetResult {
  options: OrderGetOptions;
  /** Orders taken through the engine while building the data dir, and how fast. */
  engineSeed: { orders: number; seconds: number; ordersPerS: number; rejected: number };
  /** Orders copied straight into the store (0 with --seed engine). */
  directSeed: { orders: number; seconds: number };
  requests: number;
  requestsPerS: number;
  notFound: number;
  latency: LatencyMs;
  serverCpuCores?: number;
  clientCpuCores: number;
}

/** The key the stock processor keeps an order under (engine/stock/types.ts, keys.order). */
const orderKey = (id: string) => `stock/order/${id}`;

interface StoredOrder {
  id: string;
  customer?: string;
  channel?: string;
  pickup?: string;
  lines: Array<{ sku: string; qty: number; price?: number; returned: number }>;
  allocation: Array<{ sku: string; qty: number; location: string; reservation: string }>;
  placedAt: number;
  history: Array<{ status: string; at: number; channel?: string; location?: string }>;
  origin?: string;
  returnFrom?: number;
}

/**
 * Writes the workload's next `count` orders as copies of `template` (a record the engine wrote
 * for an order that went through the same steps), each with its own id, customer, channel,
 * store and lines; times shift by one second per order, as if placed one after another.
 */
async function copyOrders(dir: string, template: StoredOrder, workload: OrderWorkload, count: number): Promise<number> {
  const start = performance.now();
  const root = open({ path: dir, noSubdir: false, maxDbs: 64, mapSize: 64 * 1024 ** 3, noSync: true });
  const state = root.openDB<unknown, string>({ name: 'state' });
  try {
    for (let done = 0; done < count; ) {
      const n = Math.min(50_000, count - done);
      await state.transaction(() => {
        for (let i = 0; i < n; i++) {
          const [placed] = workload.nextOrder();
          const id = placed.order as string;
          const pickup = placed.pickup as string;
          const lines = placed.lines as Array<{ sku: string; qty: number; price?: number }>;
          const shift = (done + i + 1) * 1000;
          const record: StoredOrder = {
            ...template,
            id,
            customer: placed.customer as string,
            channel: placed.channel as string | undefined,
            pickup,
            lines: lines.map((l) => ({ ...l, returned: 0 })),
            allocation: lines.map((l, k) => ({ sku: l.sku, qty: l.qty, location: pickup, reservation: `order:${id}:${k}` })),
            placedAt: template.placedAt + shift,
            history: template.history.map((h) => ({ ...h, at: h.at + shift, ...(h.location !== undefined ? { location: pickup } : {}) })),
            ...(template.origin !== undefined ? { origin: `${id}/placed` } : {}),
            ...(template.returnFrom !== undefined ? { returnFrom: template.returnFrom + shift } : {}),
          };
          if (record.channel === undefined) delete record.channel;
          state.put(orderKey(id), record);
        }
      });
      done += n;
    }
  } finally {
    await root.close();
  }
  return (performance.now() - start) / 1000;
}

function get(agent: Agent, port: number, token: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

async function expectOrder(agent: Agent, port: number, token: string, id: string): Promise<void> {
  const res = await get(agent, port, token, `/v1/orders/${encodeURIComponent(id)}`);
  const body = res.status === 200 ? (JSON.parse(res.body) as { order?: string; status?: string }) : undefined;
  if (body?.order !== id || body.status !== 'completed') throw new Error(`GET /v1/orders/${id}: expected the completed order, got ${res.status} ${res.body.slice(0, 300)}`);
}

export async function runOrderGetBench(o: OrderGetOptions, runNo = 0): Promise<OrderGetResult> {
  const dir = freshDir('order-get');
  const prefix = `og${runNo}`;
  const shape = { skus: o.skus, stores: o.stores, linesPerOrder: 3, dist: 'zipf' as const, flow: 'pickup' as const };
  const workload = new OrderWorkload(shape, prefix);
  try {
    const throughEngine = o.seed === 'engine' ? o.orders : o.sample;
    const engine = await openBenchEngine({ path: dir, durability: 'none', workers: 1 });
    let seeded;
    try {
      const stock = await setUpStock(engine, shape, prefix);
      console.log(`  data dir  : ${fmtInt(stock.events)} events (stores + stock) in ${fmtMs(stock.ms)} ms`);
      seeded = await closedLoop(engine, { kind: 'orders', workload }, { chunk: 1, concurrency: 1024, warmupSeconds: 0, seconds: 86_400, maxChunks: throughEngine });
    } finally {
      await engine.close();
    }
    const engineSeed = { orders: seeded.done, seconds: seeded.seconds, ordersPerS: seeded.finishedPerS, rejected: seeded.rejected };
    console.log(`              ${fmtInt(seeded.done)} orders through the engine (placed → ready → picked up, durability none) in ${seeded.seconds.toFixed(1)} s: ${fmtInt(seeded.finishedPerS)} orders/s, ${fmtInt(seeded.rejected)} rejected`);
    if (seeded.done !== throughEngine) throw new Error(`only ${seeded.done} of ${throughEngine} orders completed while seeding: ${JSON.stringify(seeded.rejectedByCode)}`);
    let directSeed = { orders: 0, seconds: 0 };
    if (o.orders > throughEngine) {
      console.log(`              all ${fmtInt(o.orders)} that way would take ~${fmtInt(o.orders / seeded.finishedPerS)} s; the other ${fmtInt(o.orders - throughEngine)} are copies of a real record, written straight into the state database`);
      const root = open({ path: dir, noSubdir: false, maxDbs: 64, mapSize: 64 * 1024 ** 3 });
      const template = root.openDB<unknown, string>({ name: 'state' }).get(orderKey(`${prefix}-o0`)) as StoredOrder | undefined;
      await root.close();
      if (!template) throw new Error(`the engine stored no record under ${orderKey(`${prefix}-o0`)}`);
      const copied = o.orders - throughEngine;
      directSeed = { orders: copied, seconds: await copyOrders(dir, template, workload, copied) };
      console.log(`              ${fmtInt(copied)} copied in ${directSeed.seconds.toFixed(1)} s`);
    }

    const secret = randomBytes(32).toString('base64url');
    const server = startServer({ dataDir: dir, secret, workers: o.workers, startTimeoutMs: 180_000 });
    const agent = new Agent({ keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections });
    try {
      const port = Number(new URL(await server.listening).port);
      const token = signToken({ sub: 'bench-order-get', role: 'admin', exp: Math.floor(Date.now() / 1000) + 24 * 3600 }, secret);
      // The first order went through the engine, the last was copied (or also through the engine).
      await expectOrder(agent, port, token, `${prefix}-o0`);
      await expectOrder(agent, port, token, `${prefix}-o${o.orders - 1}`);
      return { options: o, engineSeed, directSeed, ...(await measureGets(agent, port, token, server.pid, prefix, o)) };
    } finally {
      agent.destroy();
      await server.stop();
    }
  } finally {
    removeDir(dir);
  }
}

async function measureGets(agent: Agent, port: number, token: string, pid: number, prefix: string, o: OrderGetOptions) {
  const latency = new LatencyRecorder();
  let requests = 0;
  let notFound = 0;
  let measuring = false;
  const start = performance.now();
  const from = start + o.warmupSeconds * 1000;
  const until = from + o.seconds * 1000;
  let cpu0 = process.cpuUsage();
  let server0 = processCpuSeconds(pid);
  const edge = setTimeout(() => {
    measuring = true;
    cpu0 = process.cpuUsage();
    server0 = processCpuSeconds(pid);
  }, o.warmupSeconds * 1000);
  const client = async (c: number) => {
    const rand = prng(c + 1);
    while (performance.now() < until) {
      const n = Math.floor(rand() * o.orders);
      const sent = performance.now();
      const res = await get(agent, port, token, `/v1/orders/${prefix}-o${n}`);
      const answered = performance.now();
      if (res.status !== 200 && res.status !== 404) throw new Error(`GET /v1/orders/${prefix}-o${n}: ${res.status} ${res.body.slice(0, 200)}`);
      if (!measuring || answered < from || answered >= until) continue;
      latency.recordSince(sent, answered);
      requests++;
      if (res.status === 404) notFound++;
    }
  };
  await Promise.all(Array.from({ length: o.connections }, (_, c) => client(c))).finally(() => clearTimeout(edge));
  const cpu = process.cpuUsage(cpu0);
  const server1 = processCpuSeconds(pid);
  const summary = latency.summary();
  return {
    requests,
    requestsPerS: requests / o.seconds,
    notFound,
    latency: summary,
    serverCpuCores: server0 !== undefined && server1 !== undefined ? (server1 - server0) / o.seconds : undefined,
    clientCpuCores: (cpu.user + cpu.system) / 1e6 / o.seconds,
  };
}

export function printOrderGet(r: OrderGetResult): void {
  const l = r.latency;
  console.log(`  GET       : ${r.options.connections} connections, ${fmtInt(r.requestsPerS)} requests/s over ${fmtInt(r.options.orders)} stored orders, ${fmtInt(r.notFound)} not found`);
  console.log(`              p50 ${fmtMs(l.p50)} ms, p99 ${fmtMs(l.p99)} ms, p999 ${fmtMs(l.p999)} ms, max ${fmtMs(l.max)} ms (n=${fmtInt(l.count)})`);
  console.log(`              server ${r.serverCpuCores === undefined ? 'n/a' : `${(r.serverCpuCores * 100).toFixed(0)}%`} of a core, client ${(r.clientCpuCores * 100).toFixed(0)}%`);
}

export function orderGetHeadline(r: OrderGetResult): Record<string, number> {
  return {
    getP50Ms: r.latency.p50,
    getP99Ms: r.latency.p99,
    getP999Ms: r.latency.p999,
    requestsPerS: r.requestsPerS,
    engineSeedOrdersPerS: r.engineSeed.ordersPerS,
  };
}
