// Prints the recommender's figures with its default options on the YooChoose 100k sample: the
// internal tuning split (train_tr's last 20% of sessions held out) and train_tr → train_valid,
// next to the popularity baseline. Run: npx tsx bench/recs-tune.ts [data dir]

import { join } from 'node:path';
import { evaluate, evaluatePopularity, readSessions, timeSplit, type Session } from './recs-eval.ts';

const dir = process.argv[2] ?? join(import.meta.dirname, '../../shared/data/yoochoose-100k');
const trainTr = readSessions(join(dir, 'train_tr.tsv'));
const valid = readSessions(join(dir, 'train_valid.tsv'));
const inner = timeSplit(trainTr, 0.2);

const f = (x: number) => x.toFixed(4);
const us = (p: { p50: number; p99: number }) => `p50 ${p.p50.toFixed(0)} µs, p99 ${p.p99.toFixed(0)} µs`;

function report(name: string, train: Session[], test: Session[]): void {
  const pop = evaluatePopularity(train, test);
  const t0 = performance.now();
  const r = evaluate(train, test);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${name}: ${r.predictions} predictions`);
  console.log(`  recommender  HR@20 ${f(r.hr20)}  MRR@20 ${f(r.mrr20)}  (${s} s; update ${us(r.updateUs)}; query ${us(r.queryUs)})`);
  console.log(`  popularity   HR@20 ${f(pop.hr20)}  MRR@20 ${f(pop.mrr20)}`);
}

report('internal split (train_tr first 80% → last 20%)', inner.train, inner.test);
report('train_tr → train_valid', trainTr, valid);
