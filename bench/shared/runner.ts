// Runs what bench/mod.ts lists: one benchmark K times (--runs) with the machine, the command and
// the spread over runs, or the whole suite with a summary and a results file.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchDef } from './bench-def.ts';
import { UsageError, readFlags, type FlagSpec } from './flags.ts';
import { exactCommand, machineInfo, printHeader, printSpreads, summariseRuns, writeJson, type Spread } from './report.ts';
import { REPO_ROOT } from './server-process.ts';

export interface BenchList {
  benches: Record<string, BenchDef>;
  /** What the suite runs, in order, with each benchmark's flags. */
  suite: ReadonlyArray<readonly [name: string, argv: string[]]>;
  suiteFlags: FlagSpec[];
  usage: string;
}

interface Outcome {
  benchmark: string;
  command: string;
  options: unknown;
  runs: unknown[];
  summary: Record<string, Spread>;
  derived?: Record<string, number>;
}

async function runBench(benches: BenchList['benches'], name: string, argv: readonly string[], command: string): Promise<Outcome | 'help'> {
  const def = benches[name];
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

async function runSuite(list: BenchList, argv: readonly string[]): Promise<number> {
  const f = readFlags(argv, list.suiteFlags);
  if (f.help) {
    console.log(list.usage);
    return 0;
  }
  const only = f.string('only')?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of only ?? []) if (!list.suite.some(([s]) => s === n)) throw new UsageError(`--only: unknown benchmark '${n}'`);
  const runs = f.string('runs');
  const startedAt = new Date();
  const started = performance.now();
  const machine = machineInfo(tmpdir());
  console.log(`omni bench: the full suite${only ? ` (${only.join(', ')})` : ''}; command: ${exactCommand()}`);
  const outcomes: Outcome[] = [];
  for (const [name, suiteArgv] of list.suite) {
    if (only && !only.includes(name)) continue;
    const args = [...suiteArgv, ...(runs ? ['--runs', runs] : [])];
    const outcome = await runBench(list.benches, name, args, `omni bench ${[name, ...args].join(' ')}   (part of: ${exactCommand()})`);
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

/** `omni bench [name] [flags]`: one benchmark by name, or the suite without one. */
export async function runBenchCommand(list: BenchList, argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'help' || sub === '-h' || (sub === '--help' && rest.length === 0)) {
    console.log(list.usage);
    return 0;
  }
  if (sub === undefined || sub.startsWith('--')) return runSuite(list, argv);
  if (!Object.hasOwn(list.benches, sub)) throw new UsageError(`unknown benchmark '${sub}' (${Object.keys(list.benches).join(', ')})`);
  await runBench(list.benches, sub, rest, exactCommand());
  return 0;
}
