// Prints the recommender's figures with its default options on the YooChoose 100k sample: the
// internal tuning split (train_tr's last 20% of sessions held out) and train_tr → train_valid,
// next to the popularity baseline. With --scale, also the latencies with ~109k sessions stored
// (earlier time-shifted copies of train_tr before it). --options '{"neighbours":100,…}' runs
// other settings (RecommenderOptions) the same way. --split-only runs the internal split alone
// (what tuning may look at: train_valid stays unseen until a variant is final); with --scale, the
// split's training part 8 times over too.
// Run: npx tsx bench/recs/tune.ts [--scale] [--split-only] [--options JSON] [data dir]; the data dir holds
// train_tr.tsv and train_valid.tsv (or .tsv.gz), by default the sample in test/fixtures/yoochoose.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MapState, RecommenderOptions } from '../../engine/mod.ts';
import { SAMPLE_DIR } from './engine-level.ts';
import { evaluate, evaluatePopularity, readSessions, recordStats, timeSplit, type Session } from './eval.ts';

const args = process.argv.slice(2);
const scale = args.includes('--scale');
const splitOnly = args.includes('--split-only');
const at = args.indexOf('--options');
const options = at >= 0 ? (JSON.parse(args[at + 1]) as RecommenderOptions) : undefined;
const dir = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1)) ?? SAMPLE_DIR;
const tsv = (name: string) => (existsSync(join(dir, `${name}.tsv`)) ? join(dir, `${name}.tsv`) : join(dir, `${name}.tsv.gz`));
console.log(`data: ${tsv('train_tr')} → ${tsv('train_valid')}`);
const trainTr = readSessions(tsv('train_tr'));
const valid = readSessions(tsv('train_valid'));
const inner = timeSplit(trainTr, 0.2);

const f = (x: number) => x.toFixed(4);
const us = (p: { p50: number; p99: number }) => `p50 ${p.p50.toFixed(0)} µs, p99 ${p.p99.toFixed(0)} µs`;

function report(name: string, train: Session[], test: Session[], records = false): void {
  const pop = evaluatePopularity(train, test);
  const t0 = performance.now();
  const into: { state?: MapState } = {};
  const r = evaluate(train, test, options, into);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${name}: ${r.predictions} predictions`);
  console.log(`  recommender  HR@20 ${f(r.hr20)}  MRR@20 ${f(r.mrr20)}  (${s} s; update ${us(r.updateUs)}; query ${us(r.queryUs)})`);
  console.log(`  popularity   HR@20 ${f(pop.hr20)}  MRR@20 ${f(pop.mrr20)}`);
  if (!records) return;
  const writes = Object.entries(r.writesPerUpdate).map(([t, n]) => `${t} ${n.toFixed(3)}`);
  console.log(`  writes per update: ${writes.join(', ')}`);
  for (const [t, st] of Object.entries(recordStats(into.state!))) {
    console.log(`  ${t.padEnd(8)} ${String(st.count).padStart(6)} records, mean ${st.meanBytes.toFixed(0)} B, max ${st.maxBytes} B`);
  }
}

report('internal split (train_tr first 80% → last 20%)', inner.train, inner.test);
if (!splitOnly) report('train_tr → train_valid', trainTr, valid, true);

if (scale) {
  // Copies shifted back by the training part's span, so the real sessions stay the most recent;
  // with --split-only, of the internal split's training part, tested on its held-out part.
  const copies = 8;
  const [base, test, name] = splitOnly ? [inner.train, inner.test, 'the split\'s last 20%'] : [trainTr, valid, 'train_valid'];
  const span = base[base.length - 1].clicks[0].time - base[0].clicks[0].time + 3_600_000;
  const big: Session[] = [];
  for (let c = copies - 1; c >= 0; c--) {
    for (const s of base) big.push({ session: `${c}:${s.session}`, clicks: s.clicks.map((k) => ({ sku: k.sku, time: k.time - c * span })) });
  }
  const r = evaluate(big, test, options);
  console.log(`${big.length} sessions stored → ${name}: HR@20 ${f(r.hr20)}  MRR@20 ${f(r.mrr20)}; update ${us(r.updateUs)}; query ${us(r.queryUs)}`);
}
