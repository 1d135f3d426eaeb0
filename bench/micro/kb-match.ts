// `omni bench kb`: how long matching a customer's text to a knowledge-base entry takes
// (KnowledgeIndex.match), with 1,000 and 10,000 entries, and how long rebuilding the index from
// the stored entries takes (what a start pays). The entries are the fixture's
// (fixtures/knowledge-base.json) repeated: each copy's questions and answer carry two words of
// its own (made-up product names) so the vocabulary grows with the entries
// the way product-specific entries would make it grow. The texts matched are the labelled
// customer questions (fixtures/knowledge-base-questions.jsonl), in turn.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { knowledgeIndexOf, type KnowledgeEntry } from '../../engine/mod.ts';
import { defineBench } from '../shared/bench-def.ts';
import { describeFlags, readFlags, type FlagSpec } from '../shared/flags.ts';
import { fmtInt, printTable } from '../shared/report.ts';
import { REPO_ROOT } from '../shared/server-process.ts';

const KB_FLAGS: FlagSpec[] = [
  { name: 'sizes', kind: 'value', valueName: 'N,…', help: 'entries in the index, one measurement each (default 1000,10000)' },
  { name: 'matches', kind: 'value', valueName: 'M', help: 'timed matches per size (default 5000)' },
];

const KB_HELP = `Usage: omni bench kb [flags]

KnowledgeIndex.match (engine/service/kb/) with N entries: the fixture's entries repeated, each
copy with two made-up words of its own, matched against the labelled customer questions in turn; each
call timed on its own (p50, p99, max), and the process's CPU time per match over them all
(which a busy machine inflates less than the clock). Also the time to build the index from the N entries.

Flags:
${describeFlags(KB_FLAGS)}`;

interface KbOptions {
  sizes: number[];
  matches: number;
}

interface KbRow {
  entries: number;
  buildMs: number;
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
  return { sizes, matches: f.int('matches', 5000, 100, 10_000_000) };
}

const FIXTURES = join(REPO_ROOT, 'fixtures');

function fixtureEntries(): KnowledgeEntry[] {
  return JSON.parse(readFileSync(join(FIXTURES, 'knowledge-base.json'), 'utf8')) as KnowledgeEntry[];
}

function fixtureQuestions(): Array<{ question: string; language: string }> {
  return readFileSync(join(FIXTURES, 'knowledge-base-questions.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { question: string; language: string });
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tor', 'vy', 'zu', 'pe', 'sha', 'nix', 'qua', 'bo'];

/** A made-up word for copy `n`, distinct for each n (its digits in base 12, as syllables). */
function madeUpWord(n: number): string {
  let word = '';
  do {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return word;
}

/** `count` entries: the fixture's, copy after copy, each copy with words of its own. */
export function synthesisedEntries(base: readonly KnowledgeEntry[], count: number): KnowledgeEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const entry = base[i % base.length];
    const copy = Math.floor(i / base.length);
    if (copy === 0) return entry;
    const own = ` ${madeUpWord(copy)} ${madeUpWord(copy * 31 + 7)}`;
    return { ...entry, faq: `${entry.faq}~${copy}`, questions: entry.questions.map((q) => q + own), answer: entry.answer + own };
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function runKbBench(o: KbOptions): Promise<KbRow[]> {
  const base = fixtureEntries();
  const questions = fixtureQuestions();
  const rows: KbRow[] = [];
  for (const size of o.sizes) {
    const entries = synthesisedEntries(base, size);
    const built = performance.now();
    const index = knowledgeIndexOf(entries);
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
    rows.push({ entries: size, buildMs, p50Us: percentile(samples, 0.5), p99Us: percentile(samples, 0.99), maxUs: samples[samples.length - 1], cpuUs: (cpu.user + cpu.system) / o.matches, matches: o.matches });
  }
  printTable([
    ['entries', 'build ms', 'match p50 µs', 'match p99 µs', 'max µs', 'CPU µs/match', 'matches'],
    ...rows.map((r) => [fmtInt(r.entries), r.buildMs.toFixed(0), r.p50Us.toFixed(0), r.p99Us.toFixed(0), r.maxUs.toFixed(0), r.cpuUs.toFixed(0), fmtInt(r.matches)]),
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
