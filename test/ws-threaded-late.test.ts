// The push layer's first subscriber to a topic, with the engine on its own thread, when the
// message naming the topic (watch) reaches the engine's thread only after two batches touching
// it were applied and released: the main thread was busy between the subscription and its next
// turn (a large fan-out, say). The subscriber must get every update after its snapshot, or a new
// snapshot where an update could not be rendered: never a silent jump.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openThreadedEngine } from '../engine/mod.ts';
import { DEFAULT_WS_LIMITS, TopicHub, type OutMessage } from '../gateway/mod.ts';
import { engineThreadFile } from './bundle-harness.ts';

// Engine threads start from engine-thread.ts bundled once (engine-thread-link.ts reads
// OMNI_ENGINE_THREAD_FILE), not compiled through tsx in each thread again.
beforeAll(async () => {
  process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
});

const received = (id: string) => ({ id, type: 'stock.received', sku: 'T', location: 'S1', qty: 1 });

it.each(['in this thread', 'on its own thread'])('a watch that arrives after two batches touching the topic leaves no gap the subscriber is not told of (engine %s)', async (where) => {
  const dir = mkdtempSync(join(tmpdir(), 'omni-late-watch-'));
  // One event a batch: the two events below are two batches, two updates of stock/T.
  const options = { path: dir, durability: 'none' as const, maxBatch: 1 };
  const engine = where === 'in this thread' ? await openEngine({ ...options, processors: defaultProcessors() }) : await openThreadedEngine({ ...options, domains: {} });
  const hub = new TopicHub(engine, DEFAULT_WS_LIMITS, { historyHit() {}, historyMiss() {} });
  try {
    await engine.submit([{ id: 'l', type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 1 }, received('r1')]);
    const got: OutMessage[] = [];
    const subscriber = { push: (m: OutMessage) => got.push(m), flush() {} };
    // In this order in the next turn: the events go over, this thread is busy, the watch goes over.
    const applied = engine.submit([received('r2'), received('r3')]);
    setImmediate(() => {
      const until = Date.now() + 300;
      while (Date.now() < until);
    });
    got.push(...hub.subscribe(subscriber, 'stock/T'));
    expect(got[0].body).toMatchObject({ op: 'snapshot', seq: 1 });
    await applied;
    // Sent after the watch: answered after the engine thread's reply to it.
    await engine.idle();
    // Every update is one after the message before it; a jump comes only as a snapshot, which
    // tells the subscriber so (the engine on its own thread could not render the update between).
    for (let i = 1; i < got.length; i++) {
      if (got[i].body.op === 'update') expect(got[i].body.seq).toBe((got[i - 1].body.seq as number) + 1);
      else expect(got[i].body).toMatchObject({ op: 'snapshot', epoch: engine.epoch });
    }
    expect(got.at(-1)!.body).toMatchObject({ seq: engine.lastSeq('stock/T'), data: engine.snapshot('stock/T')!.data });
    if (where === 'in this thread') expect(got.map((m) => m.body.op)).toEqual(['snapshot', 'update', 'update']);
  } finally {
    hub.dispose();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
