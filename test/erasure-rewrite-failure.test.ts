// A store rewrite that fails part-way with engine threads (threaded-rewrite.ts) stops the engine,
// and close() still ends: the engine threads, paused by the rewrite or holding their messages with
// their store closed, end when told to close instead of waiting for a reopen that never comes.

import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openThreadedEngine, type EventResult } from '../engine/mod.ts';
import { rewriteProbe, type RewriteStep } from '../engine/store-rewrite.ts';
import { engineThreadFile } from './bundle-harness.ts';
import { ann, bothHistories, SETUP } from './fixtures/erasure-history.ts';
import { tempDirs } from './fixtures/omni-process.ts';

const dirs = tempDirs('omni-rewrite-failure-');
afterAll(() => dirs.cleanup());
afterEach(() => {
  rewriteProbe.step = undefined;
});

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms))]);

describe('a store rewrite failing with two engine threads', () => {
  it.each(['copied', 'closed'] as RewriteStep[])('at %s: the engine stops and close() ends', async (failAt) => {
    const dir = dirs.make();
    process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
    const engine = await openThreadedEngine({ path: dir, durability: 'fsync', domains: {}, threads: 2 });
    const fatal = new Promise<Error>((resolve) => engine.onFatal(resolve));
    await engine.submit(SETUP);
    for (const round of bothHistories(1)) await engine.submit(round);
    await engine.idle();
    // Sent while the rewrite has the engine threads paused: it waits in a thread's queue.
    let waiting: Promise<EventResult[]> | undefined;
    rewriteProbe.step = (step) => {
      if (step === 'paused') {
        waiting = engine.submit([{ id: 'z-1', type: 'stock.received', sku: 'Z', location: 'S1', qty: 1 }]);
        waiting.catch(() => undefined);
      }
      // As a failed write of the copy, fsync or rename would.
      if (step === failAt) throw new Error(`rewrite failed at ${failAt}`);
    };
    let stop = false;
    const traffic = (async () => {
      for (let n = 0; !stop; n++) {
        const [r] = await engine.submit([{ id: `t-${n}`, type: 'stock.received', sku: 'T', location: 'S1', qty: 1 }]);
        if (!r.ok) throw new Error('refused');
      }
    })().catch(() => undefined);
    await engine.submit([{ id: 'erase-ann', type: 'customer.erased', customer: ann.phone }]);
    expect((await within(fatal, 10_000, 'the failure')).message).toBe(`rewrite failed at ${failAt}`);
    stop = true;
    await traffic;
    await within(engine.close(), 10_000, 'close()');
    await expect(waiting).rejects.toThrow();
  });
});
