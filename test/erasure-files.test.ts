// After `customer.erased`, no file of the data dir holds a copy of the customer's data: a customer
// with several linked ids, a profile, many sessions of activity (updated over and over, so freed
// pages hold old copies), service requests with messages, orders, loyalty points (lots with expiry
// timers, one spent whole) and a coupon, and kiosk visits is erased; then every file in the data
// dir (data.mdb, lock.mdb, anything else) is read as bytes and searched for each id and each text
// (UTF-8): none is found, and no live record names the customer — not a topic's seq record
// (`$seq/recs/<id>`, `$seq/loyalty/<id>`), not a loyalty expiry timer, not a kept answer of its
// events (the dedup index: `{"customer":"cust-ann-…"}`), each checked on its own. A second
// customer, untouched, is found (the search works), and with the store rewrite switched off the
// same search finds the erased texts or ids outside any live record (so this test catches a
// rewrite that stops working). Both engine layouts: in the test's thread and on two engine threads.

import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, openThreadedEngine, defaultProcessors, type EventResult, type InputEvent } from '../engine/mod.ts';
import { engineThreadFile } from './bundle-harness.ts';
import { ann, bob, bothHistories, history, ids, inFiles, liveKinds, liveRecordsHolding, outsideLiveRecords, SETUP, texts } from './fixtures/erasure-history.ts';
import { tempDirs } from './fixtures/omni-process.ts';

const dirs = tempDirs('omni-erasure-files-');
afterAll(() => dirs.cleanup());


type Layout = 1 | 2;

async function open(path: string, threads: Layout, rewriteAfterErasure: boolean, scrubDelayMs?: number) {
  const options = { path, durability: 'fsync' as const, rewriteAfterErasure, scrubDelayMs };
  if (threads === 1) return openEngine({ ...options, processors: defaultProcessors({}) });
  process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
  return openThreadedEngine({ ...options, domains: {}, threads: 2 });
}

/** Both customers' histories, then ann's erasure; returns the erasure's answer and the engine's rewrite count. */
async function eraseAnn(dir: string, threads: Layout, rewriteAfterErasure: boolean): Promise<{ answer: EventResult; rewrites: number }> {
  const engine = await open(dir, threads, rewriteAfterErasure);
  try {
    const send = async (events: InputEvent[]) => {
      const results = await engine.submit(events);
      expect(results.filter((r) => !r.ok), JSON.stringify(events)).toEqual([]);
      await engine.idle();
      return results;
    };
    await send(SETUP);
    for (const round of bothHistories()) await send(round);
    const [answer] = await send([{ id: 'erase-1', type: 'customer.erased', customer: ann.email }]);
    await engine.scrubbed();
    return { answer, rewrites: engine.stats().storeRewrites?.count ?? 0 };
  } finally {
    await engine.close();
  }
}

describe.each([1, 2] as const)('the data dir files after customer.erased (%i engine thread(s))', (threads) => {
  it('hold no erased record of the customer, and the other customer whole', async () => {
    const dir = dirs.make();
    const { answer, rewrites } = await eraseAnn(dir, threads, true);
    expect(answer).toMatchObject({ ok: true, erased: { ids: 4 } });
    expect(rewrites).toBe(1);
    for (const [text, n] of inFiles(dir, texts(ann))) expect(n, text).toBe(0);
    // No live record names an id: each kind the erasure used to leave, on its own.
    const live = liveKinds(await liveRecordsHolding(dir, ids(ann)));
    expect(live.seqs, 'topic seq records').toEqual([]);
    expect(live.timers, 'loyalty expiry timers').toEqual([]);
    expect(live.answers, 'kept answers').toEqual([]);
    expect(live.other).toEqual([]);
    // And no byte of the files holds one, live or freed.
    for (const [id, n] of inFiles(dir, ids(ann))) expect(n, id).toBe(0);
    // The other customer is found: the search works.
    for (const [needle, n] of inFiles(dir, [...ids(bob), ...texts(bob)])) expect(n, needle).toBeGreaterThan(0);
    // The store still opens and holds the other customer.
    const engine = await open(dir, threads, true);
    try {
      expect(engine.read(`id/x/${bob.phone}`)).toBeDefined();
      expect(engine.read(`id/x/${ann.phone}`)).toBeUndefined();
      // A retry of an event whose kept answer named the customer: still a duplicate, its answer redacted.
      const earn = history(ann, 'ann').flat().find((e) => e.id === 'ann-earn')!;
      const [retry] = await engine.submit([earn]);
      expect(retry).toMatchObject({ ok: true, redacted: true, duplicate: true });
      expect(JSON.stringify(retry)).not.toContain(ann.customer);
      // Another event under its id is still refused.
      const [reused] = await engine.submit([{ ...earn, points: 1 }]);
      expect(reused).toMatchObject({ ok: false, error: { code: 'id_conflict' } });
    } finally {
      await engine.close();
    }
  });

  it('without the rewrite, the same search finds erased records (LMDB keeps freed pages)', async () => {
    const dir = dirs.make();
    const { answer, rewrites } = await eraseAnn(dir, threads, false);
    expect(answer).toMatchObject({ ok: true });
    expect(rewrites).toBe(0);
    const textsFound = [...inFiles(dir, texts(ann)).values()].reduce((a, b) => a + b, 0);
    const stray = outsideLiveRecords(dir, ids(ann), await liveRecordsHolding(dir, ids(ann)));
    expect(textsFound + stray.length).toBeGreaterThan(0);
    // Erased records' bytes: a session log, an id's record, a request's message.
    expect(stray.length).toBeGreaterThan(0);
  });

  it('erasures while a rewrite waits (scrubDelayMs) share it; a close runs the one still waiting', async () => {
    const dir = dirs.make();
    const engine = await open(dir, threads, true, 3_600_000);
    let stats: ReturnType<typeof engine.stats>;
    try {
      await engine.submit(SETUP);
      for (const round of bothHistories(1)) await engine.submit(round);
      const answers = await engine.submit([
        { id: 'erase-ann', type: 'customer.erased', customer: ann.phone },
        { id: 'erase-bob', type: 'customer.erased', customer: bob.phone },
      ]);
      expect(answers).toMatchObject([{ ok: true }, { ok: true }]);
      await engine.idle();
      expect(engine.stats().storeRewrites).toEqual({ count: 0, lastMs: 0, totalMs: 0 });
    } finally {
      await engine.close();
      stats = engine.stats();
    }
    expect(stats.storeRewrites?.count).toBe(1);
    for (const person of [ann, bob]) {
      for (const [text, n] of inFiles(dir, texts(person))) expect(n, text).toBe(0);
      const live = await liveRecordsHolding(dir, ids(person));
      expect(outsideLiveRecords(dir, ids(person), live)).toEqual([]);
    }
  });
});
