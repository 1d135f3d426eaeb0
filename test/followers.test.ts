// Followers react on their own partition, through follow events (engine/follow-events.ts), with
// toy processors on a real engine: `bump` counts per key; `watcher` follows it, keyed to one
// partition of its own, and appends what it saw to a log there — the event, its answer, its
// event time, and the followed write as the durable state held it when the reaction ran. Checked:
// one reaction per followed event, in order, on the follower's partition, after the followed
// event's commit; one follow event per batch and source partition however many events it
// carries; a failing reaction loses itself only; a follow event a crash left in the outbox is
// applied at the next start, once; a followed event the follower declines (followsWhen) makes no
// hop; no sender can send one. And the pure runner does the same through its queue.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEngine, PureRunner, type Engine, type Processor } from '../engine/mod.ts';
import type { AppliedStep } from '../engine/pure-runner.ts';
import { partitionOf } from '../engine/partitions.ts';
import { lmdbOptions } from '../engine/store.ts';

const PARTITIONS = 8;
const WATCH_KEY = 'watch';
const watchPartition = partitionOf(WATCH_KEY, PARTITIONS);

/** Two keys on two partitions, neither the watcher's. */
const candidates = Array.from({ length: 64 }, (_, i) => `k${i}`).filter((k) => partitionOf(k, PARTITIONS) !== watchPartition);
const A = candidates[0];
const B = candidates.find((k) => partitionOf(k, PARTITIONS) !== partitionOf(A, PARTITIONS))!;

const counter: Processor = {
  name: 'counter',
  types: ['bump'],
  topicPrefixes: [],
  schemas: { bump: { key: { kind: 'id' } } },
  partitionKey: (ev) => ev.key as string,
  apply(view, ev) {
    const n = (view.get<number>(`n/${ev.key}`) ?? 0) + 1;
    return { result: { ok: true, n }, writes: [[`n/${ev.key}`, n]] };
  },
  onTimer: () => ({}),
  render: () => undefined,
};

interface Seen {
  id: string;
  n: unknown;
  eventTime: number;
  /** The followed event's write as committed when the reaction ran. */
  durable: unknown;
}

/** The engine under test: the watcher reads its committed state to tell when it reacts. */
let current: Engine | undefined;
const watcher: Processor = {
  name: 'watcher',
  types: [],
  topicPrefixes: [],
  schemas: {},
  follows: ['bump'],
  partitionKey: () => WATCH_KEY,
  apply: () => ({ result: { ok: true } }),
  onFollowed(view, ev, outcome, ctx) {
    if (ev.key === 'boom') throw new Error('the watcher cannot follow boom');
    if (ev.key === 'odd') return { writes: [['watch/odd', () => 'not storable']] };
    const log = view.get<Seen[]>('watch/log') ?? [];
    const seen: Seen = { id: ev.id, n: outcome.result.n, eventTime: ctx.eventTime, durable: current?.read(`n/${ev.key}`) ?? null };
    return { writes: [['watch/log', [...log, seen]]] };
  },
  onTimer: () => ({}),
  render: () => undefined,
};

let dir: string;
const engines: Engine[] = [];
const start = async () => {
  const e = await openEngine({ path: dir, processors: [counter, watcher], partitions: PARTITIONS });
  engines.push(e);
  current = e;
  return e;
};
const log = (e: Engine) => e.read<Seen[]>('watch/log') ?? [];
const follows = (e: Engine) => e.stats().eventsByTypeAndResult.get('$follow|ok') ?? 0;
const bump = (id: string, key: string, ts: number) => ({ id, type: 'bump', key, ts });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'omni-followers-'));
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  current = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('followers', () => {
  it('react once per followed event, in order, on their own partition, after its commit', async () => {
    const e = await start();
    const answers = await e.submit([bump('b1', A, 1000), bump('b2', B, 2000), bump('b3', A, 3000)]);
    expect(answers.map((a) => a.ok)).toEqual([true, true, true]);
    await e.idle();
    // each reaction saw its event's answer and own time, and the event's write already durable
    expect(log(e)).toEqual([
      { id: 'b1', n: 1, eventTime: 1000, durable: 2 },
      { id: 'b3', n: 2, eventTime: 3000, durable: 2 },
      { id: 'b2', n: 1, eventTime: 2000, durable: 1 },
    ]);
    // A's two events came in one follow event, B's in another (each source partition its own)
    expect(follows(e)).toBe(2);
    expect(e.checkpoint(watchPartition)).toBe(2);
    expect(e.checkpoint(partitionOf(A, PARTITIONS))).toBe(2);
    expect(e.checkpoint(partitionOf(B, PARTITIONS))).toBe(1);
    // a later batch's reactions come after the earlier's
    await e.submit([bump('b4', B, 4000)]);
    await e.idle();
    expect(log(e).map((s) => s.id)).toEqual(['b1', 'b3', 'b2', 'b4']);
  });

  it('coalesce: one follow event carries every followed event of a batch from one partition', async () => {
    const e = await start();
    const batches: number[] = [];
    e.onBatch((b) => batches.push(b.events));
    const events = Array.from({ length: 50 }, (_, i) => bump(`c${i}`, A, 1000 + i));
    await e.submit(events);
    await e.idle();
    expect(batches).toEqual([50, 1]);
    expect(follows(e)).toBe(1);
    expect(log(e).map((s) => s.n)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(log(e).every((s) => s.durable === 50)).toBe(true);
  });

  it('lose only the failing reaction: a throw or an unstorable write', async () => {
    const e = await start();
    const answers = await e.submit([bump('f1', A, 1), bump('f2', 'boom', 2), bump('f3', 'odd', 3), bump('f4', A, 4)]);
    // the owner's answers stand
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, true]);
    await e.idle();
    expect(e.read('n/boom')).toBe(1);
    expect(e.read('n/odd')).toBe(1);
    expect(e.read('watch/odd')).toBeUndefined();
    expect(log(e).map((s) => s.id)).toEqual(['f1', 'f4']);
  });

  it('apply a follow event a crash left in the outbox at the next start, once', async () => {
    await (await start()).close();
    // What a process killed right after committing a followed event would leave.
    const followed = [[{ id: 'x1', type: 'bump', key: A }, { ok: true, n: 7 }, [], 5000]];
    const env = openLmdb(lmdbOptions({ path: dir }));
    await env.openDB({ name: 'outbox' }).put('0003/0000000000000004', [{ id: '$follow/0003/0000000000000004', type: '$follow', follower: 'watcher', followed }, 5000]);
    await env.close();
    const e = await start();
    await e.idle();
    expect(log(e)).toEqual([{ id: 'x1', n: 7, eventTime: 5000, durable: null }]);
    expect(e.checkpoint(watchPartition)).toBe(1);
    await e.close();
    const again = await start();
    await again.idle();
    expect(log(again)).toHaveLength(1);
    await again.close();
    const check = openLmdb(lmdbOptions({ path: dir }));
    expect(check.openDB({ name: 'outbox' }).getCount()).toBe(0);
    await check.close();
  });

  it('skip the followed events their followsWhen declines, and the hop with them', async () => {
    const picky: Processor = { ...watcher, followsWhen: (_view, ev) => ev.key !== 'quiet' };
    const e = await openEngine({ path: dir, processors: [counter, picky], partitions: PARTITIONS });
    engines.push(e);
    current = e;
    await e.submit([{ id: 'q1', type: 'bump', key: 'quiet' }, { id: 'q2', type: 'bump', key: 'quiet' }]);
    await e.idle();
    // Declined: no follow event at all, no reaction.
    expect(e.stats().eventsByTypeAndResult.get('$follow|ok')).toBeUndefined();
    expect(e.read('watch/log')).toBeUndefined();
    await e.submit([{ id: 'q3', type: 'bump', key: 'quiet' }, { id: 'l1', type: 'bump', key: A }]);
    await e.idle();
    expect((e.read('watch/log') as Seen[]).map((x) => x.id)).toEqual(['l1']);
    expect(e.stats().eventsByTypeAndResult.get('$follow|ok')).toBe(1);
  });

  it('never take a follow event from a sender', async () => {
    const e = await start();
    const followed = [[{ id: 'x2', type: 'bump', key: A }, { ok: true, n: 1 }, [], 1]];
    const [r] = await e.submit([{ id: 's1', type: '$follow', follower: 'watcher', followed }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown_type' } });
    await e.idle();
    expect(log(e)).toEqual([]);
  });
});

describe('followers in the pure runner', () => {
  it('react when their follow event is taken from the queue, in order, keyed as the follower keys them', () => {
    const steps: AppliedStep[] = [];
    const r = new PureRunner([counter, watcher], { onStep: (step) => steps.push(step) });
    r.autoDrain = false;
    r.apply({ id: 'p1', type: 'bump', key: A, ts: 10 });
    r.apply({ id: 'p2', type: 'bump', key: B, ts: 20 });
    expect(r.queue.map((q) => q.type)).toEqual(['$follow', '$follow']);
    expect(r.state.get('watch/log')).toBeUndefined();
    r.step();
    expect(r.state.get('watch/log')).toEqual([{ id: 'p1', n: 1, eventTime: 10, durable: null }]);
    r.drain();
    expect((r.state.get('watch/log') as Seen[]).map((s) => s.id)).toEqual(['p1', 'p2']);
    expect(steps.filter((s) => s.kind === 'follow').map((s) => [s.event?.id, s.key])).toEqual([
      ['p1', WATCH_KEY],
      ['p2', WATCH_KEY],
    ]);
    // with autoDrain, before apply returns
    r.autoDrain = true;
    r.apply({ id: 'p3', type: 'bump', key: A, ts: 30 });
    expect((r.state.get('watch/log') as Seen[]).map((s) => s.id)).toEqual(['p1', 'p2', 'p3']);
  });
});
