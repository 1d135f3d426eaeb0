// `omni bench <name>`: the benchmarks behind docs/benchmarks.md. Each subcommand prints the
// machine, the runtime, the exact command and its figures; `--runs K` repeats it and reports the
// median with min and max. Without a subcommand the suite runs (SUITE, ≈ 8 minutes) and the
// results go to bench/results/<timestamp>.json.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINE_FLAGS, ENGINE_HELP, engineHeadline, engineRatios, readEngineOptions, runEngineBench } from './engine-throughput.ts';
import { UsageError, describeFlags, readFlags, type FlagSpec } from './flags.ts';
import { FANOUT_FLAGS, FANOUT_HELP, fanoutDerived, fanoutHeadline, readFanoutOptions, runFanoutBench } from './fanout.ts';
import { HTTP_FLAGS, HTTP_HELP, httpHeadline, readHttpOptions, runHttpBench } from './http-ingest.ts';
import { IDLE_FLAGS, IDLE_HELP, idleHeadline, readIdleOptions, runIdleBench } from './idle-connections.ts';
import { MICRO_FLAGS, MICRO_HELP, microHeadline, readMicroOptions, runMicroBench } from './micro-hot-paths.ts';
import { exactCommand, machineInfo, printHeader, printSpreads, summariseRuns, writeJson, type Spread } from './report.ts';
import { LOADGEN_FLAGS, LOADGEN_HELP, loadgenHeadline, printDeviations, readLoadgenBenchOptions, runLoadgenBench } from './loadgen-repeat.ts';
import { RESTART_FLAGS, RESTART_HELP, readRestartOptions, restartHeadline, runRestartBench } from './restart-time.ts';
import { STARTUP_FLAGS, STARTUP_HELP, readStartupOptions, runStartupBench, startupHeadline } from './startup-time.ts';
import { RECS_FLAGS, RECS_HELP, SAMPLE_DIR, readRecsOptions, recsHeadline, runRecsBench } from './recs.ts';
import { ROUTING_FLAGS, ROUTING_HELP, readRoutingOptions, routingHeadline, runRoutingBench } from './service-routing.ts';
import { REPO_ROOT } from './server-process.ts';
import { RESERVATIONS_FLAGS, RESERVATIONS_HELP, readReservationsOptions, reservationsHeadline, reservationsRatios, runReservationsBench } from './reservations.ts';

interface BenchDef {
  title: string;
  help: string;
  flags: FlagSpec[];
  /** Runs once (run number `runNo`), printing as it goes; returns its result and headline figures. */
  prepare(argv: readonly string[]): 'help' | { options: unknown; run(runNo: number): Promise<{ result: unknown; headline: Record<string, number> }> };
  /** Extra lines after the spread over runs. */
  derived?(spreads: Record<string, Spread>): Record<string, number>;
  /** Prints what the spread over several runs means for this benchmark. */
  conclude?(spreads: Record<string, Spread>): void;
}

const BENCHES: Record<string, BenchDef> = {
  engine: {
    title: 'engine: max events/s and submit→durable latency, in-process',
    help: ENGINE_HELP,
    flags: ENGINE_FLAGS,
    prepare(argv) {
      const o = readEngineOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async (n) => { const r = await runEngineBench(o, n); return { result: r, headline: engineHeadline(r) }; } };
    },
    derived: engineRatios,
  },
  http: {
    title: 'http: POST /v1/events throughput against an omni serve child process',
    help: HTTP_HELP,
    flags: HTTP_FLAGS,
    prepare(argv) {
      const o = readHttpOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async (n) => { const r = await runHttpBench(o, n); return { result: r, headline: httpHeadline(r) }; } };
    },
  },
  restart: {
    title: 'restart: omni serve spawn → ready, with a large data dir and with an empty one',
    help: RESTART_HELP,
    flags: RESTART_FLAGS,
    prepare(argv) {
      const o = readRestartOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async () => { const r = await runRestartBench(o); return { result: r, headline: restartHeadline(r) }; } };
    },
  },
  startup: {
    title: 'startup: npm start → "omni listening on", from the JavaScript build (dist/) and from the sources through tsx',
    help: STARTUP_HELP,
    flags: STARTUP_FLAGS,
    prepare(argv) {
      const o = readStartupOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async () => { const r = await runStartupBench(o); return { result: r, headline: startupHeadline(r) }; } };
    },
  },
  loadgen: {
    title: 'loadgen: the same omni loadgen run K times, each against a fresh omni serve (reproducibility)',
    help: LOADGEN_HELP,
    flags: LOADGEN_FLAGS,
    prepare(argv) {
      const o = readLoadgenBenchOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async () => { const r = await runLoadgenBench(o); return { result: r, headline: loadgenHeadline(r) }; } };
    },
    conclude: printDeviations,
  },
  reservations: {
    title: 'reservations: reserve → commit/release on omnistream vs PostgreSQL vs Redis, same durability tier',
    help: RESERVATIONS_HELP,
    flags: RESERVATIONS_FLAGS,
    prepare(argv) {
      const o = readReservationsOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async (n) => { const r = await runReservationsBench(o, n); return { result: r, headline: reservationsHeadline(r) }; } };
    },
    derived: reservationsRatios,
  },
  fanout: {
    title: 'fanout: push fan-out, omnistream vs a ws server vs a Socket.IO server, same loadgen workload',
    help: FANOUT_HELP,
    flags: FANOUT_FLAGS,
    prepare(argv) {
      const o = readFanoutOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async (n) => { const r = await runFanoutBench(o, n); return { result: r, headline: fanoutHeadline(r) }; } };
    },
    derived: fanoutDerived,
  },
  'idle-conns': {
    title: 'idle-conns: omni serve memory (ΔRSS) per idle WebSocket connection, with one subscription and with none',
    help: IDLE_HELP,
    flags: IDLE_FLAGS,
    prepare(argv) {
      const o = readIdleOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async () => { const r = await runIdleBench(o); return { result: r, headline: idleHeadline(r) }; } };
    },
  },
  routing: {
    title: 'routing: service routing decisions with 5,000 agents and 50,000 queued (pure), and 2,000 requests/s through the engine',
    help: ROUTING_HELP,
    flags: ROUTING_FLAGS,
    prepare(argv) {
      const o = readRoutingOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async (n) => { const r = await runRoutingBench(o, n); return { result: r, headline: routingHeadline(r) }; } };
    },
  },
  recs: {
    title: 'recs: session recommendations through the engine — HR@20 / MRR@20 on real sessions, ingest with the update, query latency',
    help: RECS_HELP,
    flags: RECS_FLAGS,
    prepare(argv) {
      const o = readRecsOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async () => { const r = await runRecsBench(o); return { result: r, headline: recsHeadline(r) }; } };
    },
  },
  micro: {
    title: 'micro: hot paths (tinybench)',
    help: MICRO_HELP,
    flags: MICRO_FLAGS,
    prepare(argv) {
      const o = readMicroOptions(argv);
      if (o === 'help') return o;
      return { options: o, run: async (n) => { const rows = await runMicroBench(o, n); return { result: rows, headline: microHeadline(rows) }; } };
    },
  },
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

const USAGE = `Usage: omni bench [engine|http|restart|startup|micro|fanout|idle-conns|reservations|loadgen|routing|recs] [flags]

  engine        the engine alone: max events/s, then submit→durable latency (per durability)
  http          POST /v1/events throughput and latency against an "omni serve" child process
  restart       time from spawn to ready with 1,000,000 rows, and with an empty data dir
  startup       npm start → listening, from the JavaScript build and from the sources through tsx
  micro         micro-benchmarks of the hot paths
  fanout        push fan-out: omnistream vs a ws server vs a Socket.IO server, same subscribers and load
  idle-conns    server memory per idle WebSocket connection
  reservations  reserve/commit/release: omnistream vs PostgreSQL vs Redis, real servers, stated durability
  loadgen       the same omni loadgen run K times against fresh servers (reproducibility)
  routing       service routing: decision cost with 5,000 agents and 50,000 queued, and 2,000 requests/s sustained
  recs          session recommendations: HR@20 / MRR@20 on the YooChoose sessions in test/fixtures through the engine, ingest, query latency

Without a subcommand (npm run bench): micro, engine, http, restart, fanout, idle-conns and recs
(on the YooChoose sample in test/fixtures) at a smaller size, a summary, and the results in bench/results/<timestamp>.json (reservations needs
Debian's postgresql and redis-server and loadgen repeats whole runs: run those by name). Figures are what this machine did, nothing is
asserted against targets. "omni bench <subcommand> --help" lists its flags.

Flags without a subcommand:
${describeFlags(SUITE_FLAGS)}`;

interface Outcome {
  benchmark: string;
  command: string;
  options: unknown;
  runs: unknown[];
  summary: Record<string, Spread>;
  derived?: Record<string, number>;
}

async function runBench(name: string, argv: readonly string[], command: string): Promise<Outcome | 'help'> {
  const def = BENCHES[name];
  const common = readFlags(argv, def.flags);
  const prepared = def.prepare(argv);
  if (prepared === 'help' || common.help) {
    console.log(def.help);
    return 'help';
  }
  const runs = common.int('runs', 1, 1, 100);
  printHeader(def.title, machineInfo(tmpdir()), command);
  const results: unknown[] = [];
  const headlines: Array<Record<string, number>> = [];
  for (let k = 0; k < runs; k++) {
    if (runs > 1) console.log(`\n--- run ${k + 1} of ${runs} ---`);
    const { result, headline } = await prepared.run(k);
    results.push(result);
    headlines.push(headline);
  }
  const summary = summariseRuns(headlines);
  if (runs > 1) printSpreads(summary);
  const derived = def.derived?.(summary);
  if (runs > 1 && derived && Object.keys(derived).length > 0) {
    console.log('  ratios of the medians: ' + Object.entries(derived).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(', '));
  }
  if (runs > 1) def.conclude?.(summary);
  const outcome: Outcome = { benchmark: name, command, options: prepared.options, runs: results, summary, derived };
  const json = common.string('json');
  if (json) writeJson(json, { machine: machineInfo(tmpdir()), startedAt: new Date().toISOString(), ...outcome });
  return outcome;
}

async function runSuite(argv: readonly string[]): Promise<number> {
  const f = readFlags(argv, SUITE_FLAGS);
  if (f.help) {
    console.log(USAGE);
    return 0;
  }
  const only = f.string('only')?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of only ?? []) if (!SUITE.some(([s]) => s === n)) throw new UsageError(`--only: unknown benchmark '${n}'`);
  const runs = f.string('runs');
  const startedAt = new Date();
  const started = performance.now();
  const machine = machineInfo(tmpdir());
  console.log(`omni bench: the full suite${only ? ` (${only.join(', ')})` : ''}; command: ${exactCommand()}`);
  const outcomes: Outcome[] = [];
  for (const [name, suiteArgv] of SUITE) {
    if (only && !only.includes(name)) continue;
    const args = [...suiteArgv, ...(runs ? ['--runs', runs] : [])];
    const outcome = await runBench(name, args, `omni bench ${[name, ...args].join(' ')}   (part of: ${exactCommand()})`);
    if (outcome !== 'help') outcomes.push(outcome);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\n=== summary (${seconds.toFixed(0)} s; noisy unless the machine was quiet) ===`);
  for (const o of outcomes) {
    console.log(`${o.benchmark}:`);
    for (const [k, s] of Object.entries(o.summary)) {
      const v = k.endsWith('Ms') ? `${s.median.toFixed(2)} ms` : Math.round(s.median).toLocaleString('en-US');
      console.log(`  ${k.padEnd(44)} ${v}${s.runs.length > 1 ? `  [${s.min.toFixed(1)} … ${s.max.toFixed(1)}]` : ''}`);
    }
  }
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const path = f.string('json') ?? join(REPO_ROOT, 'bench', 'results', `${stamp}.json`);
  writeJson(path, { machine, command: exactCommand(), startedAt: startedAt.toISOString(), durationS: seconds, benchmarks: outcomes });
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'help' || sub === '-h' || (sub === '--help' && rest.length === 0)) {
    console.log(USAGE);
    return 0;
  }
  if (sub === undefined || sub.startsWith('--')) return runSuite(argv);
  if (!Object.hasOwn(BENCHES, sub)) throw new UsageError(`unknown benchmark '${sub}' (${Object.keys(BENCHES).join(', ')})`);
  await runBench(sub, rest, exactCommand());
  return 0;
}
