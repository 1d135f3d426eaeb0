// The engine a bench drives, as a user would open it: `--workers 1` is `openEngine` in this
// thread (apply, commit and the caller's submits share one event loop); `--workers 2` is
// `openThreadedEngine`, where this thread checks and builds each event and the engine's own
// thread applies and commits. Both answer the same submit, listeners, stats, query and close.

import { defaultProcessors, openEngine, openEngineWithWorkers, type Durability, type Engine } from '../../engine/mod.ts';
import { UsageError } from './flags.ts';

export type BenchEngine = Pick<Engine, 'submit' | 'onBatch' | 'onOutput' | 'stats' | 'close' | 'idle' | 'query'>;

export interface BenchEngineOptions {
  path: string;
  durability: Durability;
  /** 1: everything on this thread; N ≥ 2: N engine threads sharing the partitions (as `omni serve --workers`). */
  workers: number;
  /** `noop`: the stock processor only answers ok (the engine core's own cost); in-process only. */
  rules?: 'stock' | 'noop';
  maxBatch?: number;
  maxInFlight?: number;
  cacheEntries?: number;
}

export async function openBenchEngine(o: BenchEngineOptions): Promise<BenchEngine> {
  const tuning = { maxBatch: o.maxBatch, maxInFlight: o.maxInFlight, ...(o.cacheEntries ? { cacheEntries: o.cacheEntries } : {}) };
  if (o.rules !== 'noop') return openEngineWithWorkers(o.workers, { path: o.path, domains: {}, durability: o.durability, ...tuning });
  // The engine's thread makes its own processors from plain options: no-op rules cannot cross.
  if (o.workers > 1) throw new UsageError('--rules noop runs in-process only (--workers 1)');
  const processors = defaultProcessors().map((p) => ({ ...p, apply: () => ({ result: { ok: true as const } }) }));
  return openEngine({ path: o.path, processors, durability: o.durability, ...tuning });
}
