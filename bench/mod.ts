// `omni bench <name>`: the benchmarks behind docs/benchmarks.md. Each subcommand prints the
// machine, the runtime, the exact command and its figures; `--runs K` repeats it and reports the
// median with min and max. Without a subcommand the suite runs (SUITE, ≈ 8 minutes) and the
// results go to bench/results/<timestamp>.json.

import { join } from 'node:path';
import { BOT_BENCH } from './bot/mod.ts';
import { CLUSTER_BENCH } from './cluster/mod.ts';
import { ENGINE_BENCH } from './engine/mod.ts';
import { ERASURE_BENCH } from './erasure/mod.ts';
import { HTTP_BENCH } from './http/mod.ts';
import { IDLE_BENCH } from './idle/mod.ts';
import { LMDB_LAYOUT_BENCH } from './lmdb-layout/mod.ts';
import { LOADGEN_BENCH } from './loadgen/mod.ts';
import { LOYALTY_BENCH } from './loyalty/mod.ts';
import { KB_BENCH, MICRO_BENCH } from './micro/mod.ts';
import { ORDER_GET_BENCH, ORDERS_BENCH } from './orders/mod.ts';
import { FANOUT_BENCH } from './push/mod.ts';
import { RECEIVER_BENCH } from './receiver/mod.ts';
import { RECS_BENCH, SAMPLE_DIR } from './recs/mod.ts';
import { RESERVATIONS_BENCH } from './reservations/mod.ts';
import { RESTART_BENCH, STARTUP_BENCH } from './restart/mod.ts';
import { ROUTING_BENCH } from './routing/mod.ts';
import { UI_BENCH } from './ui/mod.ts';
import type { BenchDef } from './shared/bench-def.ts';
import { describeFlags, type FlagSpec } from './shared/flags.ts';
import { runBenchCommand } from './shared/runner.ts';

/** One folder per question; its mod.ts says what it measures. */
const BENCHES: Record<string, BenchDef> = {
  receiver: RECEIVER_BENCH,
  engine: ENGINE_BENCH,
  http: HTTP_BENCH,
  restart: RESTART_BENCH,
  startup: STARTUP_BENCH,
  loadgen: LOADGEN_BENCH,
  reservations: RESERVATIONS_BENCH,
  loyalty: LOYALTY_BENCH,
  fanout: FANOUT_BENCH,
  'idle-conns': IDLE_BENCH,
  routing: ROUTING_BENCH,
  ui: UI_BENCH,
  recs: RECS_BENCH,
  micro: MICRO_BENCH,
  kb: KB_BENCH,
  bot: BOT_BENCH,
  'lmdb-layout': LMDB_LAYOUT_BENCH,
  cluster: CLUSTER_BENCH,
  orders: ORDERS_BENCH,
  'order-get': ORDER_GET_BENCH,
  erasure: ERASURE_BENCH,
};

/** What the suite runs: each benchmark at a size that keeps the whole under ~8 minutes. */
const SUITE: Array<[name: string, argv: string[]]> = [
  ['micro', ['--time', '500']],
  ['engine', ['--durability', 'all', '--seconds', '5', '--warmup', '2']],
  ['http', ['--format', 'both', '--seconds', '8', '--warmup', '2']],
  ['restart', []],
  ['fanout', ['--quick']],
  ['idle-conns', ['--connections', '2000']],
  // The sample kept in the repository, so the suite runs wherever it is checked out.
  ['recs', ['--train', join(SAMPLE_DIR, 'train_tr.tsv.gz'), '--test', join(SAMPLE_DIR, 'valid_first1000.tsv.gz')]],
];

const SUITE_FLAGS: FlagSpec[] = [{ name: 'only', kind: 'value', valueName: 'LIST', help: `comma-separated subset of ${SUITE.map(([n]) => n).join(',')}` }];

const USAGE = `Usage: omni bench [${Object.keys(BENCHES).join('|')}] [flags]

  engine        the engine alone: max events/s, then submit→durable latency (per durability)
  http          POST /v1/events throughput and latency against an "omni serve" child process
  restart       time from spawn to ready with 1,000,000 rows, and with an empty data dir
  startup       npm start → listening, from the JavaScript build and from the sources through tsx
  micro         micro-benchmarks of the hot paths
  kb            knowledge-base answers: matching a customer's text with 1,000 and 10,000 entries
  bot           the service bot in the engine: answer latency with 1,000 and 10,000 entries, requests/s with --bot first vs off
  lmdb-layout   N threads making their partitions durable (fsync): an LMDB env per thread, one shared, or one writer thread
  receiver      CPU per received WebSocket message: the loadgen's receiver vs the ws package, update scan vs full decode
  fanout        push fan-out: omnistream vs a ws server vs a Socket.IO server, same subscribers and load
  idle-conns    server memory per idle WebSocket connection
  reservations  reserve/commit/release: omnistream vs PostgreSQL vs Redis, real servers, stated durability
  loyalty       loyalty.redeemed vs PostgreSQL UPDATE … WHERE balance >= $1 vs a Redis Lua script, contended and spread
  loadgen       the same omni loadgen run K times against fresh servers (reproducibility)
  routing       service routing: decision cost with 5,000 agents and 50,000 queued, and 2,000 requests/s sustained
  ui            the pages under /ui/ in headless Chromium: first paint, script size, stock change → visible
  recs          session recommendations: HR@20 / MRR@20 on the YooChoose sessions in test/fixtures through the engine, ingest, query latency
  cluster       three omni serve --nats nodes vs one embedded server (ingest), kill -9 under load (served again after), exactly-once
  orders        pickup orders placed → ready → picked up through the engine, beside plain stock events, one and two engine threads
  order-get     GET /v1/orders/:order latency against omni serve holding 1,000,000 orders
  erasure       customer.erased of a customer with 10,000 events of history: time to its answer (and the store rewrite), other traffic's ack p99 before / during / after

Without a subcommand (npm run bench): micro, engine, http, restart, fanout, idle-conns and recs
(on the YooChoose sample in test/fixtures) at a smaller size, a summary, and the results in bench/results/<timestamp>.json (reservations and loyalty need
Debian's postgresql and redis-server, cluster needs nats-server, and loadgen repeats whole runs: run those by name). Figures are what this machine did, nothing is
asserted against targets. "omni bench <subcommand> --help" lists its flags.

Flags without a subcommand:
${describeFlags(SUITE_FLAGS)}`;

export function main(argv: string[]): Promise<number> {
  return runBenchCommand({ benches: BENCHES, suite: SUITE, suiteFlags: SUITE_FLAGS, usage: USAGE }, argv);
}
