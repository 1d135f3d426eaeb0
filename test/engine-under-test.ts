// The engine the gateway-level tests run against: in the test's thread, or — when the
// `engine-thread` test project sets OMNI_TEST_WORKERS=2 (vitest.config.ts) — on two engine
// threads sharing the partitions, as `omni serve --workers 2` runs it. The same tests then prove the same behaviour for both.
// A test driving a manual clock always gets the engine in its thread (the other reads the real one).

import { defaultProcessors, openEngine, openEngineWithWorkers, type Clock, type Durability, type DomainOptions, type Engine, type ThreadedEngine } from '../engine/mod.ts';
import { engineThreadFile } from './bundle-harness.ts';

export type TestEngine = Engine | ThreadedEngine;

export const ENGINE_ON_ITS_OWN_THREAD = process.env.OMNI_TEST_WORKERS === '2';

export async function openTestEngine(options: { path: string; domains?: DomainOptions; durability: Durability; clock?: Clock }): Promise<TestEngine> {
  const { path, domains = {}, durability, clock } = options;
  if (clock !== undefined) return openEngine({ path, processors: defaultProcessors(domains), durability, clock, autoTimers: false });
  // Its threads start from engine/engine-thread.ts bundled once for the sources as they are
  // (engine-thread-link.ts reads OMNI_ENGINE_THREAD_FILE), not compiled through tsx in each thread
  // again: that took most of a threaded test's time.
  if (ENGINE_ON_ITS_OWN_THREAD) process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
  return openEngineWithWorkers(ENGINE_ON_ITS_OWN_THREAD ? 2 : 1, { path, domains, durability });
}
