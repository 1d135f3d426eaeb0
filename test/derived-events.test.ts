// Derived events and pending answers in the engine, with a toy two-step saga: `ask` (keyed by
// its ticket) leaves its answer pending and emits `toy.step` to another key; the step counts and,
// when the ticket asked for it, emits `toy.done`, which answers the ask. `approve` answers an ask
// whose ticket waits for approval. Checked: each derived event is applied once, after the commit
// that emitted it, on its own partition; the sender waits for the final answer; retries join it,
// also across a restart; the outbox is empty afterwards and re-sent when a crash left it full.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineClosedError, openEngine, type Engine, type Processor } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { lmdbOptions } from '../engine/store.ts';

const text = { kind: 'id' } as const;
const toy: Processor = {
  name: 'toy',
  types: ['ask', 'approve'],
  internalTypes: ['toy.step', 'toy.done'],
  topicPrefixes: [],
  schemas: { ask: { ticket: text, target: text, wait: { kind: 'enum', values: ['yes'], optional: true } }, approve: { ticket: text } },
  partitionKey: (ev) => (ev.type === 'toy.step' ? (ev.target as string) : (ev.ticket as string)),
  apply(view, ev) {
    switch (ev.type) {
      case 'ask': {
        if (ev.ticket === 'bad') return { result: { ok: false, error: { code: 'conflict', message: 'bad ticket' } } };
        const step = { id: `${ev.id}/step`, type: 'toy.step', target: ev.target, ticket: ev.ticket, origin: ev.id, wait: ev.wait === 'yes' };
        return { result: { ok: true, pending: true }, writes: [[`ticket/${ev.ticket}`, { origin: ev.id, event: ev }]], emit: [step] };
      }
      case 'toy.step': {
        const n = (view.get<number>(`count/${ev.target}`) ?? 0) + 1;
        const emit = ev.wait ? [] : [{ id: `${ev.origin}/done`, type: 'toy.done', ticket: ev.ticket, n }];
        return { result: { ok: true }, writes: [[`count/${ev.target}`, n]], emit };
      }
      case 'toy.done':
      case 'approve': {
        const t = view.get<{ origin: string; event: never }>(`ticket/${ev.ticket}`);
        if (!t) return { result: { ok: false, error: { code: 'not_found', message: 'no ticket' } } };
        return {
          result: { ok: true },
          writes: [[`ticket/${ev.ticket}`, undefined]],
          answers: [{ id: t.origin, result: { ok: true, n: ev.n ?? 'approved' }, event: t.event }],
        };
      }
    }
    throw new Error(`unexpected ${ev.type}`);
  },
  onTimer: () => ({}),
  render: () => undefined,
};

/** Follows `ask`: sees it only once it is answered, with the final answer. */
const followed: Array<{ id: string; result: unknown }> = [];
const follower: Processor = {
  name: 'follower',
  types: [],
  topicPrefixes: [],
  schemas: {},
  follows: ['ask', 'toy.step'],
  partitionKey: () => 'f',
  apply: () => ({ result: { ok: true } }),
  onFollowed(_view, ev, outcome) {
    followed.push({ id: ev.id, result: outcome.result });
    return {};
  },
  onTimer: () => ({}),
  render: () => undefined,
};

let dir: string;
const engines: Engine[] = [];
const start = async () => {
  const e = await openEngine({ path: dir, processors: [toy, follower], partitions: 8 });
  engines.push(e);
  return e;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-derived-'));
  followed.length = 0;
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  rmSync(dir, { recursive: true, force: true });
});

const outboxSize = () => {
  const env = openLmdb(lmdbOptions({ path: dir }));
  try {
    return env.openDB({ name: 'outbox' }).getCount();
  } finally {
    void env.close();
  }
};

describe('derived events and pending answers', () => {
  it('answers a saga once its last step is durable, each step applied once on its own partition', async () => {
    const e = await start();
    const batches: number[] = [];
    e.onBatch((b) => batches.push(b.events));
    const [answer] = await e.submit([{ id: 'a1', type: 'ask', ticket: 'T1', target: 'X' }]);
    expect(answer).toEqual({ id: 'a1', ok: true, n: 1 });
    // ask, then the step, then done with the follower's reaction to the step, then its reaction
    // to the answered ask: each reaction one commit after what it follows
    await e.idle();
    expect(batches).toEqual([1, 1, 2, 1]);
    expect(e.read('count/X')).toBe(1);
    expect(e.read('ticket/T1')).toBeUndefined();
    // the follower saw the ask once, with its final answer, and the step
    expect(followed).toEqual([
      { id: 'a1/step', result: { ok: true } },
      { id: 'a1', result: { ok: true, n: 1 } },
    ]);
    // each partition counted what it applied: ask and done on T1's, the step on X's, the two follow events on the follower's
    const applied = e.stats().partitions.filter((p) => p.checkpoint > 0);
    expect(applied.reduce((n, p) => n + p.checkpoint, 0)).toBe(5);
    await e.close();
    expect(outboxSize()).toBe(0);
  });

  it('gives retries in flight and later the same answer, and refusals at once', async () => {
    const e = await start();
    const ask = { id: 'a2', type: 'ask', ticket: 'T2', target: 'Y' };
    const [first, twin, refused] = await Promise.all([e.submit([ask]), e.submit([ask]), e.submit([{ id: 'b', type: 'ask', ticket: 'bad', target: 'Y' }])]);
    expect(first[0]).toEqual({ id: 'a2', ok: true, n: 1 });
    expect(twin[0]).toEqual({ id: 'a2', ok: true, n: 1, duplicate: true });
    expect(refused[0]).toMatchObject({ id: 'b', ok: false, error: { code: 'conflict' } });
    const [later] = await e.submit([ask]);
    expect(later).toEqual({ id: 'a2', ok: true, n: 1, duplicate: true });
    expect(e.read('count/Y')).toBe(1);
    // the id used for another event is refused, pending or not
    const [other] = await e.submit([{ ...ask, target: 'Z' }]);
    expect(other).toMatchObject({ ok: false, error: { code: 'id_conflict' } });
  });

  it('keeps an answer pending across a restart: a retry waits for it', async () => {
    const e = await start();
    let answered = false;
    const waiting = e.submit([{ id: 'a3', type: 'ask', ticket: 'T3', target: 'X', wait: 'yes' }]).then((r) => ((answered = true), r));
    await e.idle();
    expect(answered).toBe(false);
    expect(e.read('ticket/T3')).toMatchObject({ origin: 'a3' });
    // closing tells the sender the engine closed: the saga is not finished
    await e.close();
    await expect(waiting).rejects.toThrow(EngineClosedError);
    expect(answered).toBe(false);
    const e2 = await start();
    const retry = e2.submit([{ id: 'a3', type: 'ask', ticket: 'T3', target: 'X', wait: 'yes' }]);
    await e2.idle();
    const [approved] = await e2.submit([{ id: 'ap', type: 'approve', ticket: 'T3' }]);
    expect(approved).toEqual({ id: 'ap', ok: true });
    expect((await retry)[0]).toEqual({ id: 'a3', ok: true, n: 'approved', duplicate: true });
    // answered once: a second approval finds no ticket, and the record holds the answer
    expect((await e2.submit([{ id: 'ap2', type: 'approve', ticket: 'T3' }]))[0]).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await e2.submit([{ id: 'a3', type: 'ask', ticket: 'T3', target: 'X', wait: 'yes' }]))[0]).toEqual({ id: 'a3', ok: true, n: 'approved', duplicate: true });
    expect(followed.filter((f) => f.id === 'a3')).toEqual([{ id: 'a3', result: { ok: true, n: 'approved' } }]);
  });

  // A ticket on a partition the second of two engine threads applies (p mod 2 = 1).
  const oddTicket = () => Array.from({ length: 64 }, (_, i) => `T5-${i}`).find((t) => partitionOf(t, 8) % 2 === 1)!;
  /** One of two engine threads over the dir (the first records that two keep dedup answers in it). */
  const thread = (slot: number) => openEngine({ path: dir, processors: [toy, follower], partitions: 8, share: { slot, slots: 2 }, dataDirHeldByHost: true });
  /** Submits `ask`, lets it be committed as pending and closes `engine` under it: its wait ends EngineClosedError. */
  const leavePending = async (engine: Engine, ask: Parameters<Engine['submit']>[0][number]) => {
    const waiting = engine.submit([ask]);
    await engine.idle();
    await engine.close();
    await expect(waiting).rejects.toThrow(EngineClosedError);
  };
  /** What `retry` has settled to by the next turn of the event loop, or 'still waiting'. */
  const settledNow = (retry: Promise<unknown>) => Promise.race([retry, new Promise((resolve) => setImmediate(() => resolve('still waiting')))]);

  it('answers an event left pending by another engine thread when it starts again with fewer threads', async () => {
    const ticket = oddTicket();
    await (await thread(0)).close();
    const second = await thread(1);
    const ask = { id: 'a5', type: 'ask', ticket, target: ticket, wait: 'yes' };
    await leavePending(second, ask);
    // One engine now, applying every partition: the ask's pending record is in the second thread's dedup databases.
    const e = await start();
    const retry = e.submit([ask]).then((r) => r[0]);
    expect((await e.submit([{ id: 'ap5', type: 'approve', ticket }]))[0]).toEqual({ id: 'ap5', ok: true });
    await e.idle();
    const settled = await settledNow(retry);
    expect(settled).toEqual({ id: 'a5', ok: true, n: 'approved', duplicate: true });
    expect((await e.submit([ask]))[0]).toEqual({ id: 'a5', ok: true, n: 'approved', duplicate: true });
  });

  it('gives a retry the answer another engine thread gave to an event left pending with one thread', async () => {
    const ticket = oddTicket();
    const ask = { id: 'a6', type: 'ask', ticket, target: ticket, wait: 'yes' };
    const one = await openEngine({ path: dir, processors: [toy, follower], partitions: 8 });
    await leavePending(one, ask);
    // Two threads now: the second applies the ticket's partition and answers the ask there.
    await (await thread(0)).close();
    const second = await thread(1);
    expect((await second.submit([{ id: 'ap6', type: 'approve', ticket }]))[0]).toEqual({ id: 'ap6', ok: true });
    await second.close();
    // One thread again: its own record of the ask still says pending; the answer is the second thread's.
    const e = await start();
    const retry = e.submit([ask]).then((r) => r[0]);
    await e.idle();
    const settled = await settledNow(retry);
    expect(settled).toEqual({ id: 'a6', ok: true, n: 'approved', duplicate: true });
  });

  it('answers an event left pending before a restart whatever the event time of the step answering it', async () => {
    const e = await start();
    const ask = { id: 'a7', type: 'ask', ticket: 'T7', target: 'X', wait: 'yes' };
    await leavePending(e, ask);
    const e2 = await start();
    const retry = e2.submit([ask]).then((r) => r[0]);
    // An event time three days ahead: past two dedup retention periods (a day each) of the clock.
    const ts = Date.now() + 3 * 24 * 3600 * 1000;
    expect((await e2.submit([{ id: 'ap7', type: 'approve', ticket: 'T7', ts }]))[0]).toEqual({ id: 'ap7', ok: true });
    await e2.idle();
    const settled = await settledNow(retry);
    expect(settled).toEqual({ id: 'a7', ok: true, n: 'approved', duplicate: true });
  });

  it('applies what a crash left in the outbox when it starts again, then empties it', async () => {
    const e = await start();
    const waiting = e.submit([{ id: 'a4', type: 'ask', ticket: 'T4', target: 'W', wait: 'yes' }]);
    await e.idle();
    await e.close();
    await expect(waiting).rejects.toThrow(EngineClosedError);
    // What a process killed right after committing a step would leave: a step not yet applied.
    const env = openLmdb(lmdbOptions({ path: dir }));
    await env.openDB({ name: 'outbox' }).put('0003/0000000000000007', [{ id: 'a4/done', type: 'toy.done', ticket: 'T4', n: 9 }, 1]);
    await env.close();
    const e2 = await start();
    await e2.idle();
    expect(e2.read('ticket/T4')).toBeUndefined();
    expect((await e2.submit([{ id: 'a4', type: 'ask', ticket: 'T4', target: 'W', wait: 'yes' }]))[0]).toEqual({ id: 'a4', ok: true, n: 9, duplicate: true });
    await e2.close();
    expect(outboxSize()).toBe(0);
  });

  it('refuses an emit of a type no processor declares: the event is answered internal, nothing kept', async () => {
    const rogue: Processor = { ...toy, name: 'rogue', types: ['rogue'], internalTypes: [], schemas: { rogue: {} }, partitionKey: () => 'r', apply: () => ({ result: { ok: true }, writes: [['x', 1]], emit: [{ id: 'r/1', type: 'nobody.owns' }] }) };
    const e = await openEngine({ path: dir, processors: [rogue] });
    engines.push(e);
    const [r] = await e.submit([{ id: 'r', type: 'rogue' }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(e.read('x')).toBeUndefined();
  });

  it('never takes an internal type from a sender', async () => {
    const e = await start();
    const [r] = await e.submit([{ id: 's', type: 'toy.step', target: 'X', ticket: 'T', origin: 'o' }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown_type' } });
    expect(e.read('count/X')).toBeUndefined();
  });
});
