// The engine on its own thread (ThreadedEngine) at the edges of its lifecycle and of the thread
// hop: nothing waits forever when the engine's thread dies while closing or when idle() and
// runDueTimers() are called after close or while closing; stats() is right before the first
// batch; a thread that cannot be started leaves the data dir free; a dir lost while it starts
// refuses the start; and an id-keyed object crosses between the threads with its keys as sent.

import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLock, DataDirLockLostError, defaultProcessors, openEngine, openThreadedEngine, type DomainOptions, type EventResult, type Output } from '../engine/mod.ts';
import { engineThreadFile } from './bundle-harness.ts';

// Every test starts engine threads: from engine-thread.ts bundled once (engine-thread-link.ts reads
// OMNI_ENGINE_THREAD_FILE), not compiled through tsx in each thread again.
beforeAll(async () => {
  process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
});
const root = mkdtempSync(join(tmpdir(), 'omni-threaded-review-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, String(++dirs));

/** What a promise came to, or 'still waiting' if it had not settled after `ms`: a hang shows as the latter. */
async function settledWithin<T>(promise: Promise<T>, ms = 5000): Promise<'resolved' | 'rejected' | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const waiting = new Promise<'still waiting'>((resolve) => (timer = setTimeout(() => resolve('still waiting'), ms)));
  try {
    return await Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), waiting]);
  } finally {
    clearTimeout(timer);
  }
}

const place = { id: 'loc', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 };
const received = (id: string) => ({ id, type: 'stock.received', sku: 'A', location: 'S1', qty: 1 });
/** The first engine thread: ending it, as a crash would, stops the whole engine. */
const workerOf = (engine: object) => (engine as { links: Array<{ terminate(): Promise<number> }> }).links[0];

describe('ThreadedEngine: nothing waits forever', () => {
  it('close() settles, and so does every submission in flight, when the engine thread dies while closing', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: {}, durability: 'none', autoTimers: false });
    await engine.submit([place]);
    const pending: Array<Promise<EventResult[]>> = [];
    for (let s = 0; s < 20; s++) {
      const submitted = engine.submit(Array.from({ length: 50 }, (_, i) => received(`d-${s}-${i}`)));
      // Refused when the thread dies, maybe before this test looks: settling is what counts.
      submitted.catch(() => undefined);
      pending.push(submitted);
    }
    const closed = engine.close();
    // The close message is on its way; the thread ends (as if it crashed) before it answers.
    await workerOf(engine).terminate();
    expect(await settledWithin(closed)).toBe('resolved');
    for (const p of pending) expect(await settledWithin(p)).not.toBe('still waiting');
  });

  it('idle() and runDueTimers() after close() resolve, as with the engine in this thread', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: {}, durability: 'none', autoTimers: false });
    await engine.submit([place]);
    await engine.close();
    expect(await settledWithin(engine.idle())).toBe('resolved');
    expect(await settledWithin(engine.runDueTimers())).toBe('resolved');
  });

  it('idle() called while closing resolves once close has committed everything', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: {}, durability: 'none', autoTimers: false });
    await engine.submit([place]);
    const pending = engine.submit(Array.from({ length: 200 }, (_, i) => received(`c-${i}`)));
    const closed = engine.close();
    const idle = engine.idle();
    expect(await settledWithin(idle)).toBe('resolved');
    expect(await settledWithin(closed)).toBe('resolved');
    expect((await pending).every((r) => r.ok)).toBe(true);
  });
});

describe('ThreadedEngine: the same as the engine in this thread', () => {
  it('stats() before the first batch counts the timers the data dir already holds', async () => {
    const dir = freshDir();
    const first = await openEngine({ path: dir, processors: defaultProcessors(), durability: 'none', autoTimers: false });
    await first.submit([place, received('r1'), { id: 'hold', type: 'stock.reserve', reservation: 'h1', sku: 'A', qty: 1, ttlMs: 3_600_000 }]);
    const expected = first.stats().pendingTimers;
    await first.close();
    expect(expected).toBe(1);

    const engine = await openThreadedEngine({ path: dir, domains: {}, durability: 'none', autoTimers: false });
    try {
      expect(engine.stats().pendingTimers).toBe(expected);
    } finally {
      await engine.close();
    }
  });

  it("an agent's skill named __proto__ (a valid id) reaches the engine's thread as sent", async () => {
    // A request for skill "__proto__" is offered to the agent who has it, in either engine.
    const events = [
      { id: 'on', type: 'agent.online', agent: 'a1', skills: { ['__proto__']: 5 }, capacity: { chat: 1 } },
      { id: 'st', type: 'agent.status', agent: 'a1', status: 'available' },
      { id: 'rq', type: 'service.requested', request: 'q1', subject: 'c1', channel: 'chat', topic: '__proto__' },
    ];
    // Fresh copies for each engine; JSON keeps "__proto__" an own key, as the gateway's parser does.
    const parsed = () => JSON.parse(JSON.stringify(events)) as unknown[];
    expect(Object.keys((parsed()[0] as { skills: object }).skills)).toEqual(['__proto__']);

    const local = await openEngine({ path: freshDir(), processors: defaultProcessors(), durability: 'none', autoTimers: false });
    const threaded = await openThreadedEngine({ path: freshDir(), domains: {}, durability: 'none', autoTimers: false });
    try {
      for (const e of parsed()) await local.submit([e]);
      for (const e of parsed()) await threaded.submit([e]);
      const want = local.snapshot('request/q1')?.data;
      expect(want).toBeDefined();
      expect(threaded.snapshot('request/q1')?.data).toEqual(want);
    } finally {
      await Promise.all([local.close(), threaded.close()]);
    }
  });

  it('a location named __proto__ (a valid id) keeps its name in the outputs that cross from the engine thread', async () => {
    const engine = await openThreadedEngine({ path: freshDir(), domains: {}, durability: 'none', autoTimers: false });
    try {
      const outputs: Output[] = [];
      engine.onOutput((batch) => outputs.push(...batch));
      await engine.submit([
        { id: 'l', type: 'location.upserted', location: '__proto__', kind: 'store', lat: 1, lon: 1 },
        { id: 'r', type: 'stock.received', sku: 'P', location: '__proto__', qty: 5 },
      ]);
      await engine.idle();
      const snapshot = engine.snapshot('stock/P')?.data as { locations: object };
      expect(Object.keys(snapshot.locations)).toEqual(['__proto__']);
      const update = outputs.find((o) => o.topic === 'stock/P')?.data as { locations: object };
      expect(Object.keys(update.locations)).toEqual(['__proto__']);
    } finally {
      await engine.close();
    }
  });
});

describe('ThreadedEngine: a refusal to start holds nothing', () => {
  it('config the engine thread cannot be given frees the data dir', async () => {
    const dir = freshDir();
    // Not plain data: the thread cannot be started with it.
    const domains = { service: { offerTimeoutMs: 1000, clock: () => 1 } } as unknown as DomainOptions;
    await expect(openThreadedEngine({ path: dir, domains, durability: 'none' })).rejects.toThrow();
    DataDirLock.acquire(dir).release();
  });

  it('a data dir lost while the engine thread starts refuses the start rather than write a dir it does not hold', async () => {
    const dir = freshDir();
    const lock = DataDirLock.acquire(dir, { checkEveryMs: 0 });
    const opening = openThreadedEngine({ path: dir, domains: {}, durability: 'none', dataDirLock: lock }).catch((e: unknown) => e);
    // Another process takes the dir over while the thread is still starting.
    unlinkSync(join(dir, `omni.lock.${lock.entry}`));
    expect(lock.check()).toBe(false);
    expect(await opening).toBeInstanceOf(DataDirLockLostError);
  });
});
