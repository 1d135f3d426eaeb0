// Opening the engine: in the calling thread (Engine), or on engine threads of their own sharing
// the partitions (ThreadedEngine), as `omni serve --workers N` does.

import { resolve } from 'node:path';
import { DataDirLock, DataDirLockLostError } from './data-dir-lock.ts';
import { Engine } from './engine.ts';
import { EngineThreadLink, type Ready } from './engine-thread-link.ts';
import { ProcessorIndex } from './processor-index.ts';
import { defaultProcessors } from './processors.ts';
import { localPartitions } from './remote-partitions.ts';
import { StateStore } from './store.ts';
import { rewriteIfPending } from './store-rewrite.ts';
import type { EngineThreadConfig, FromEngine } from './thread-messages.ts';
import { ThreadedEngine } from './threaded-engine.ts';
import type { EngineOptions, RemotePartitions } from './types.ts';

export async function openEngine(options: EngineOptions): Promise<Engine> {
  // Checked before the data dir is taken, so a refused set of processors holds nothing.
  for (const p of options.processors) {
    // Events are built from the schema alone: a type without one could never be applied.
    for (const t of p.types) if (!Object.hasOwn(p.schemas, t)) throw new Error(`processor '${p.name}' declares no schema for '${t}'`);
  }
  const processors = new ProcessorIndex(options.processors);
  const dataDir = options.dataDirHeldByHost ? undefined : (options.dataDirLock ?? DataDirLock.acquire(options.path));
  if (dataDir && resolve(options.path) !== dataDir.dir) throw new Error(`the data dir lock given is for ${dataDir.dir}, not ${options.path}`);
  let store: StateStore;
  try {
    store = new StateStore({
      path: options.path,
      durability: options.durability ?? 'fsync',
      cacheEntries: options.cacheEntries ?? 200_000,
      mapSize: options.mapSize,
      shared: (options.share?.slots ?? 1) > 1,
    });
  } catch (error) {
    dataDir?.release();
    throw error;
  }
  const engine = new Engine(options, processors, store, dataDir);
  try {
    await engine.start();
  } catch (error) {
    // Gives the data dir back, so this process (a test, a retry) may open it again.
    await engine.close();
    throw error;
  }
  return engine;
}

/** Most engine threads over one data dir: each keeps its own pair of dedup databases (store.ts). */
export const MAX_ENGINE_THREADS = 16;

export interface ThreadedEngineOptions extends Omit<EngineThreadConfig, 'share' | 'local'> {
  /** The data dir, already taken by the caller; without it the engine takes it. Released on close. */
  dataDirLock?: DataDirLock;
  /** Engine threads sharing the partitions (default 2). */
  threads?: number;
  /** Partitions other nodes apply (remote-partitions.ts); setRemote changes it. */
  remote?: RemotePartitions;
}

export async function openThreadedEngine(options: ThreadedEngineOptions): Promise<ThreadedEngine> {
  const { dataDirLock, threads = 2, remote, ...rest } = options;
  const config = { ...rest, local: remote && localPartitions(remote) };
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_ENGINE_THREADS) throw new RangeError(`threads must be an integer from 1 to ${MAX_ENGINE_THREADS} (got ${threads})`);
  const lock = dataDirLock ?? DataDirLock.acquire(options.path);
  // Messages that come before the engine exists (a batch of due timers, a relay) wait for it.
  let engine: ThreadedEngine | undefined;
  const early: Array<[number, FromEngine]> = [];
  let deathBeforeStart: Error | undefined;
  const onMessage = (slot: number) => (m: FromEngine) => (engine ? engine.receive(slot, m) : early.push([slot, m]));
  const onDeath = (error: Error) => (engine ? engine.fail(error) : (deathBeforeStart ??= error));
  let stopWatchingLock: (() => void) | undefined;
  // Lost while the threads start (no engine listens yet): the start is refused.
  const abort = new Promise<never>((_, reject) => {
    stopWatchingLock = lock.onLost(reject);
    if (!lock.held) reject(new DataDirLockLostError(lock.dir, 'it was lost before the engine thread started'));
  });
  abort.catch(() => undefined);
  const started: Array<{ link: EngineThreadLink; ready: Ready }> = [];
  try {
    // Before any thread opens the store: a rewrite killed half-way, or asked for and never run (store-rewrite.ts).
    await rewriteIfPending(config);
    const start = (slot: number) => EngineThreadLink.start({ ...config, share: { slot, slots: threads } }, onMessage(slot), onDeath, abort);
    // The first thread alone: it makes the data dir's epoch and partition count, the others read them.
    started.push(await start(0));
    const rest = await Promise.allSettled(Array.from({ length: threads - 1 }, (_, i) => start(i + 1)));
    for (const r of rest) if (r.status === 'fulfilled') started.push(r.value);
    const failed = rest.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (deathBeforeStart) throw deathBeforeStart;
  } catch (error) {
    stopWatchingLock?.();
    // Closed rather than ended: the first may be committing what its start restored, and a thread
    // ended mid-commit can take the process down. With the dir lost, at once.
    const clean = lock.held;
    await Promise.all(started.map((s) => s.link.close(clean)));
    lock.release();
    throw error;
  }
  stopWatchingLock?.();
  engine = new ThreadedEngine(
    started.map((s) => s.link),
    started.map((s) => s.ready),
    config,
    lock,
    remote,
  );
  for (const [slot, m] of early.splice(0)) engine.receive(slot, m);
  return engine;
}

/**
 * The engine as `omni serve --workers N` runs it: in the calling thread for 1; for 2 or more on
 * N threads of its own, sharing the partitions. Both offer the same calls.
 */
export async function openEngineWithWorkers(workers: number, options: ThreadedEngineOptions): Promise<Engine | ThreadedEngine> {
  if (workers > 1) return openThreadedEngine({ ...options, threads: workers });
  const { domains, threads: _threads, ...rest } = options;
  return openEngine({ ...rest, processors: defaultProcessors(domains) });
}
