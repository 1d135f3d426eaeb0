// `omni bench kb`: how long matching a customer's text to a knowledge-base entry takes
// (KnowledgeIndex.match), with 1,000 and 10,000 entries, and how long rebuilding the index from
// the stored entries takes (what a start pays). Entries and texts: kb-entries.ts.

import { knowledgeIndexOf } from '../../engine/mod.ts';
import { defineBench } from '../shared/bench-def.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, printTable } from '../shared/report.ts';
import { fixtureEntries, fixtureQuestions, synthesisedEntries } from './kb-entries.ts';

const KB_FLAGS: FlagSpec[] = [
  { name: 'sizes', kind: 'value', valueName: 'N,…', help: 'entries in the index, one measurement each (default 1000,10000)' },
  { name: 'matches', kind: 'value', valueName: 'M', help: 'timed matches per size (default 5000)' },
  { name: 'own-words', kind: 'value', valueName: 'K', help: 'made-up words of its own in each entry, for a large vocabulary (default 0)' },
];

const KB_HELP = `Usage: omni bench kb [flags]

KnowledgeIndex.match (engine/service/kb/) with N entries: the fixture's entries repeated, each
copy with two made-up words of its own, matched against the labelled customer questions in turn; each
call timed on its own (p50, p99, max), and the process's CPU time per match over them all
(which a busy machine inflates less than the clock). Also the time to build the index from the N entries
(wall clock and CPU).

Flags:
${describeFlags(KB_FLAGS)}`;

interface KbOptions {
  sizes: number[];
  matches: number;
  ownWords: number;
}

interface KbRow {
  entries: number;
  buildMs: number;
  /** CPU time of the build: on a busy machine, what the wall clock is not. */
  buildCpuMs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** CPU time of this process per match: on a busy machine, what the wall-clock figures are not. */
  cpuUs: number;
  matches: number;
}

function readKbOptions(argv: readonly string[]): KbOptions | 'help' {
  const f = readFlags(argv, KB_FLAGS);
  if (f.help) return 'help';
  const sizes = (f.string('sizes') ?? '1000,10000').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1_000_000)) throw new Error('--sizes: whole numbers from 1 to 1000000');
  return { sizes, matches: f.int('matches', 5000, 100, 10_000_000), ownWords: f.int('own-words', 0, 0, 100) };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function runKbBench(o: KbOptions): Promise<KbRow[]> {
  const base = fixtureEntries();
  const questions = fixtureQuestions();
  const rows: KbRow[] = [];
  for (const size of o.sizes) {
    const entries = synthesisedEntries(base, size, o.ownWords);
    const built = performance.now();
    const buildCpuBefore = process.cpuUsage();
    const index = knowledgeIndexOf(entries);
    const buildCpu = process.cpuUsage(buildCpuBefore);
    const buildMs = performance.now() - built;
    let sink = 0;
    // A warm-up pass, so the JIT has compiled the path before anything is timed.
    for (const q of questions) sink += index.match(q.question, q.language).score;
    const samples = new Float64Array(o.matches);
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < o.matches; i++) {
      const q = questions[i % questions.length];
      const start = performance.now();
      sink += index.match(q.question, q.language).score;
      samples[i] = (performance.now() - start) * 1000;
    }
    const cpu = process.cpuUsage(cpuBefore);
    if (Number.isNaN(sink)) throw new Error('kb bench: a score was not a number');
    samples.sort();
    rows.push({ entries: size, buildMs, buildCpuMs: (buildCpu.user + buildCpu.system) / 1000, p50Us: percentile(samples, 0.5), p99Us: percentile(samples, 0.99), maxUs: samples[samples.length - 1], cpuUs: (cpu.user + cpu.system) / o.matches, matches: o.matches });
  }
  printTable([
    ['entries', 'build ms', 'build CPU ms', 'match p50 µs', 'match p99 µs', 'max µs', 'CPU µs/match', 'matches'],
    ...rows.map((r) => [fmtInt(r.entries), r.buildMs.toFixed(0), r.buildCpuMs.toFixed(0), r.p50Us.toFixed(0), r.p99Us.toFixed(0), r.maxUs.toFixed(0), r.cpuUs.toFixed(0), fmtInt(r.matches)]),
  ]);
  return rows;
}

export const KB_BENCH = defineBench({
  title: 'micro: knowledge-base match',
  help: KB_HELP,
  flags: KB_FLAGS,
  read: readKbOptions,
  run: (options: KbOptions) => runKbBench(options),
  headline: (rows: KbRow[]) => Object.fromEntries(rows.flatMap((r) => [[`${r.entries} entries match p99 µs`, r.p99Us], [`${r.entries} entries match p50 µs`, r.p50Us]])),
});
