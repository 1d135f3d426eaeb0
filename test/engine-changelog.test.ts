// Copies of partitions fed from their owner's changelog (engine/changelog.ts), without NATS: node
// A applies every partition and its replicator appends each batch's changes to an in-memory
// changelog per partition; node B applies none and is fed that changelog with applyChanges.
// Checked: B's data dir ends equal to A's key by key (state, timers, outbox, dedup answers) and B
// released the outputs A released; once B takes the partitions over, a hold made on A expires on
// B's timers, a retry of an event A applied is answered duplicate and B's log positions are A's;
// a replicator that fails holds the batch (nothing committed, nothing answered) until it succeeds;
// and a process applying changes killed with SIGKILL reopens with state and changelog position agreeing.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { open as openLmdb } from 'lmdb';
import { Packr } from 'msgpackr';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openThreadedEngine, type Engine, type EventResult, type InputEvent, type Output, type PartitionChange, type Replicator, type ThreadedEngine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { resKey } from '../engine/stock/types.ts';
import { lmdbOptions } from '../engine/store.ts';
import { bundle, type Bundle } from './bundle-harness.ts';
import { CUSTOMER_SCENARIOS } from './fixtures/customer-saga-scenarios.ts';
import { prng, ROOT, tempDirs } from './fixtures/omni-process.ts';
import { locations, PARTITIONS, SCENARIOS, SKU_A, SKU_B } from './fixtures/saga-scenarios.ts';

const dirs = tempDirs('omni-changelog-test-');
afterAll(() => dirs.cleanup());

/**
 * The applier process bundled once (bundle-harness.ts), with the engine thread's file: each
 * process this file starts, and each engine thread it opens, loads plain JavaScript instead of
 * compiling the engine's modules through tsx again (most of a start's time).
 */
let fixture: Bundle;
beforeAll(async () => {
  fixture = await bundle({ 'changelog-applier': 'test/fixtures/changelog-applier.ts' });
  process.env.OMNI_ENGINE_THREAD_FILE = fixture.file('engine-thread');
});
afterAll(() => fixture?.remove());

let clock: { t: number; now(): number };
const open: Array<Engine | ThreadedEngine> = [];
beforeEach(() => {
  clock = { t: 1_700_000_000_000, now() { return this.t; } };
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function start(path: string): Promise<Engine> {
  const e = await openEngine({ path, processors: defaultProcessors({}), partitions: PARTITIONS, clock, autoTimers: false });
  open.push(e);
  return e;
}

/** A changelog per partition in memory: what the cluster's changelog stream holds. */
class TestChangelog implements Replicator {
  readonly logs: PartitionChange[][] = Array.from({ length: PARTITIONS }, () => []);
  readonly batchIds: string[] = [];
  async replicate(changes: PartitionChange[], batchId: string): Promise<number[]> {
    this.batchIds.push(batchId);
    // Through msgpack-able plain data, as over the wire: nothing shared with the owner's objects.
    return changes.map((c) => this.logs[c.partition].push(structuredClone(c)));
  }
  /** Feeds `copy` every entry of every partition it has not applied. */
  async feed(copy: Pick<Engine, 'applyChanges' | 'changelogPosition'>): Promise<void> {
    for (const [p, log] of this.logs.entries()) {
      const from = copy.changelogPosition(p);
      if (log.length > from) await copy.applyChanges(p, log.slice(from).map((change, i) => ({ seq: from + i + 1, change })));
    }
  }
}

/** Every entry of a closed data dir, by database; per-dir records (epoch, dedup clocks, counts) left out. */
async function contentsOf(path: string, engineThreads = 1): Promise<Record<string, Record<string, unknown>>> {
  const root = openLmdb(lmdbOptions({ path }));
  try {
    const out: Record<string, Record<string, unknown>> = {};
    const read = (name: string, into = name) => {
      const db = root.openDB<unknown, string>({ name });
      for (const { key, value } of db.getRange()) (out[into] ??= {})[String(key)] = value;
    };
    read('state');
    read('timers');
    read('outbox');
    // Every engine thread's two generations, whichever is current: the partitions' answers.
    for (let slot = 0; slot < engineThreads; slot++) for (const g of [0, 1]) read(`dedup${g}${slot === 0 ? '' : `.${slot}`}`, 'dedup');
    // Per data dir, not replicated: its epoch and layout, and the id its last store rewrite gave the file.
    for (const key of Object.keys(out.state)) if (/^\$(epoch|partitions|dedupSlots|dedup(\/\d+)?|store\/generation)$/.test(key)) delete out.state[key];
    return out;
  } finally {
    await root.close();
  }
}

/** Stock, the stock and customer sagas, and service requests with offers (timers) pending. */
function traffic(): InputEvent[] {
  const seen = new Set<string>();
  const out: InputEvent[] = [...locations];
  for (const s of [...Object.values(SCENARIOS), ...Object.values(CUSTOMER_SCENARIOS)]) {
    for (const ev of [...s.setup, s.saga]) {
      if (seen.has(ev.id) || locations.some((l) => l.id === ev.id)) continue;
      seen.add(ev.id);
      out.push(ev);
    }
  }
  out.push(
    { id: 'ag1', type: 'agent.online', agent: 'a1', skills: { billing: 9 }, capacity: { chat: 1 } },
    { id: 'sr1', type: 'service.requested', request: 'q1', subject: 'c1', channel: 'chat', topic: 'billing' },
    { id: 'sr2', type: 'service.requested', request: 'q2', subject: 'c2', channel: 'chat', topic: 'billing' },
  );
  return out;
}

const hold = (reservation: string, sku: string, ttlMs: number): InputEvent => ({ id: `hold-${reservation}`, type: 'stock.reserve', reservation, sku, location: 'S1', qty: 2, ttlMs });
const reservedOf = (e: Pick<Engine, 'snapshot'>, sku: string) => (e.snapshot(`stock/${sku}`)?.data as { reserved: number } | undefined)?.reserved ?? 0;
const byTopicAndSeq = (outputs: Output[]) => outputs.map(({ topic, seq, data }) => ({ topic, seq, data })).sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.seq - y.seq));

/**
 * Node A applying every partition, replicated to the changelog, and node B keeping a copy of
 * each, fed as A goes (some partitions several changes at a time); the traffic applied on A.
 */
async function ownerAndCopy<E extends Engine | ThreadedEngine>(openOn: (path: string) => Promise<E>) {
  const changelog = new TestChangelog();
  const [dirA, dirB] = [dirs.make(), dirs.make()];
  const a = await openOn(dirA);
  const b = await openOn(dirB);
  a.setReplicator(changelog);
  b.setRemote({ isLocal: () => false, send: () => undefined });
  const outA: Output[] = [];
  const outB: Output[] = [];
  a.onOutput((o) => void outA.push(...o));
  b.onOutput((o) => void outB.push(...o));
  const answers: EventResult[] = [];
  for (const ev of traffic()) {
    answers.push(...(await a.submit([ev])));
    await a.idle();
    if (answers.length % 3 === 0) await changelog.feed(b);
  }
  // (Scenarios reuse an order id: a few are refused, as they are on one engine.)
  expect(answers.filter((r) => r.ok).length).toBeGreaterThan(answers.length - 5);
  return { changelog, dirA, dirB, a, b, outA, outB, answers };
}

describe('a copy of every partition fed from its owner\'s changelog', () => {
  it('ends equal to the owner key by key, releases its outputs, and takes over where it stopped', { timeout: 60_000 }, async () => {
    const { changelog, dirA, dirB, a, b, outA, outB, answers } = await ownerAndCopy(start);
    // Through a partition's log too: its position is part of its changes.
    const pLog = partitionOf(SKU_B, PARTITIONS);
    const logged = await a.submitLogged(pLog, [
      { seq: 1, event: { id: 'in-log-1', type: 'stock.received', sku: SKU_B, location: 'S1', qty: 4 } },
      { seq: 2, event: { id: 'in-log-2', type: 'stock.sold', sku: SKU_B, location: 'S1', qty: 1 } },
    ]);
    expect(logged.every((r) => r.ok)).toBe(true);
    // A hold that expires in a minute: its timer is in SKU_A's reservation partition's changes.
    const held = await a.submit([hold('R-copy', SKU_A, 60_000)]);
    expect(held[0].ok).toBe(true);
    await changelog.feed(b);
    // Fed again: every change is at or below the copy's position, nothing applied twice.
    for (const [p, log] of changelog.logs.entries()) if (log.length > 0) await b.applyChanges(p, log.map((change, i) => ({ seq: i + 1, change })));
    expect(new Set(changelog.batchIds).size).toBe(changelog.batchIds.length);

    for (let p = 0; p < PARTITIONS; p++) {
      expect(b.changelogPosition(p)).toBe(changelog.logs[p].length);
      expect(a.changelogPosition(p)).toBe(changelog.logs[p].length);
    }
    expect(b.logPosition(pLog)).toBe(2);
    expect(byTopicAndSeq(outB)).toEqual(byTopicAndSeq(outA));
    expect(outA.length).toBeGreaterThan(50);
    // A copy fires none of its partitions' timers: the hold is still there after its expiry.
    const reserved = reservedOf(a, SKU_A);
    expect(reserved).toBeGreaterThan(0);
    clock.t += 120_000;
    await b.runDueTimers();
    expect(reservedOf(b, SKU_A)).toBe(reserved);

    await a.close();
    await b.close();
    const [contentsA, contentsB] = await Promise.all([contentsOf(dirA), contentsOf(dirB)]);
    expect(Object.keys(contentsA.timers ?? {}).length).toBeGreaterThan(0);
    expect(Object.keys(contentsA.dedup).length).toBeGreaterThan(25);
    expect(contentsB).toEqual(contentsA);

    // B takes every partition over, as after A's lease ran out.
    const b2 = await start(dirB);
    b2.setRemote({ isLocal: () => true, send: () => undefined });
    expect(b2.logPosition(pLog)).toBe(2);
    // A retry of an event A applied: its first answer, as a duplicate.
    expect(await b2.submit([hold('R-copy', SKU_A, 60_000)])).toEqual([{ ...held[0], duplicate: true }]);
    expect(await b2.submitLogged(pLog, [{ seq: 2, event: { id: 'in-log-2', type: 'stock.sold', sku: SKU_B, location: 'S1', qty: 1 } }])).toEqual([{ id: 'in-log-2', ok: true, duplicate: true }]);
    // The hold made on A expires on B's timers.
    await b2.runDueTimers();
    expect(reservedOf(b2, SKU_A)).toBe(reserved - 2);
  });

  it('applies changes as they come while running, and takes over without a restart', async () => {
    const changelog = new TestChangelog();
    const a = await start(dirs.make());
    const b = await start(dirs.make());
    a.setReplicator(changelog);
    b.setRemote({ isLocal: () => false, send: () => undefined });
    await a.submit([...locations, { id: 'in', type: 'stock.received', sku: SKU_A, location: 'S1', qty: 10 }]);
    const held = await a.submit([hold('R-live', SKU_A, 1000)]);
    await changelog.feed(b);
    // A partition that is local refuses changes: its own batches write it.
    const p = partitionOf(SKU_A, PARTITIONS);
    await expect(a.applyChanges(p, [])).rejects.toThrow(RangeError);
    await expect(b.applyChanges(p, [{ seq: 1, change: { partition: p + 1, writes: [], outputs: [] } }])).rejects.toThrow(TypeError);

    clock.t += 5000;
    expect(await b.runDueTimers()).toBe(0);
    expect(reservedOf(b, SKU_A)).toBe(2);
    b.setRemote({ isLocal: () => true, send: () => undefined });
    expect(await b.runDueTimers()).toBe(1);
    expect(reservedOf(b, SKU_A)).toBe(0);
    expect(await b.submit([hold('R-live', SKU_A, 1000)])).toEqual([{ ...held[0], duplicate: true }]);
    // Given back: its timers stop firing here.
    await b.submit([hold('R-again', SKU_A, 1000)]);
    b.setRemote({ isLocal: () => false, send: () => undefined });
    clock.t += 5000;
    expect(await b.runDueTimers()).toBe(0);
    expect(reservedOf(b, SKU_A)).toBe(2);
  });
});

describe('engines on threads of their own', () => {
  it('replicate from the requests thread and apply a copy on the thread keeping each partition', { timeout: 60_000 }, async () => {
    const openOn = async (path: string) => {
      const e = await openThreadedEngine({ path, domains: {}, partitions: PARTITIONS, threads: 2, autoTimers: false });
      open.push(e);
      return e;
    };
    const { changelog, dirA, dirB, a, b, outA, outB, answers } = await ownerAndCopy(openOn);
    const held = await a.submit([hold('R-threads', SKU_A, 60_000)]);
    await changelog.feed(b);
    // A partition B's threads do not keep a copy of on the thread named, or out of range: refused.
    await expect(b.applyChanges(PARTITIONS, [])).rejects.toThrow(RangeError);
    await expect(a.applyChanges(0, [])).rejects.toThrow(RangeError);
    for (let p = 0; p < PARTITIONS; p++) expect([p, b.changelogPosition(p)]).toEqual([p, changelog.logs[p].length]);
    expect(byTopicAndSeq(outB)).toEqual(byTopicAndSeq(outA));
    await a.close();
    await b.close();
    const [contentsA, contentsB] = await Promise.all([contentsOf(dirA, 2), contentsOf(dirB, 2)]);
    expect(Object.keys(contentsA.dedup).length).toBeGreaterThan(25);
    // An owner's position may trail its partition's last seq by an entry the other engine thread
    // appended (its delete of a derived event the partition emitted) and committed first.
    for (let p = 0; p < PARTITIONS; p++) {
      const key = `$cl/${p}`;
      expect((contentsA.state[key] ?? 0) as number).toBeLessThanOrEqual((contentsB.state[key] ?? 0) as number);
      delete contentsA.state[key];
      delete contentsB.state[key];
    }
    expect(contentsB).toEqual(contentsA);

    const b2 = await openOn(dirB);
    b2.setRemote({ isLocal: () => true, send: () => undefined });
    expect(await b2.submit([hold('R-threads', SKU_A, 60_000)])).toEqual([{ ...held[0], duplicate: true }]);
  });
});

describe('outputs of a replicated batch', () => {
  it('are rendered for the copies even where the owner has nobody watching', async () => {
    const changelog = new TestChangelog();
    const a = await start(dirs.make());
    const b = await start(dirs.make());
    a.setReplicator(changelog);
    a.setInterest(() => false);
    b.setRemote({ isLocal: () => false, send: () => undefined });
    const outB: Output[] = [];
    b.onOutput((o) => void outB.push(...o));
    await a.submit([...locations, { id: 'in-r', type: 'stock.received', sku: SKU_A, location: 'S1', qty: 6 }]);
    await changelog.feed(b);
    const update = outB.find((o) => o.topic === `stock/${SKU_A}`);
    expect(update?.data).toMatchObject({ onHand: 6 });
    expect(update?.seq).toBe(a.lastSeq(`stock/${SKU_A}`));
  });
});

describe('derived events in a copied outbox', () => {
  it('are the owner\'s to send, and applied by the copy once it takes their partition over', async () => {
    const changelog = new TestChangelog();
    const a = await start(dirs.make());
    const b = await start(dirs.make());
    a.setReplicator(changelog);
    await a.submit([...locations, { id: 'in', type: 'stock.received', sku: SKU_A, location: 'S1', qty: 10 }]);
    // The SKU's partition is on a third node for a while: the hold A's reservation partition emits waits in A's outbox.
    const q = partitionOf(SKU_A, PARTITIONS);
    const sentByA = deferred<unknown[]>();
    a.setRemote({ isLocal: (p) => p !== q, send: (items) => sentByA.resolve(items) });
    const reservation = Array.from({ length: 50 }, (_, i) => `R-out-${i}`).find((r) => partitionOf(resKey(r), PARTITIONS) !== q)!;
    // Pending until the hold is applied: A closes first, its sender hears so.
    const answer = a.submit([hold(reservation, SKU_A, 60_000)]).catch((e: Error) => e);
    expect(await sentByA.promise).toHaveLength(1);
    const sentByB: unknown[] = [];
    b.setRemote({ isLocal: () => false, send: (items) => void sentByB.push(...items) });
    await changelog.feed(b);
    // Told again, as at every change of ownership: a copy's outbox entries stay its owner's to send
    // or apply (the source partition's), even with their target partition here.
    b.setRemote({ isLocal: () => false, send: (items) => void sentByB.push(...items) });
    b.setRemote({ isLocal: (p) => p === q, send: (items) => void sentByB.push(...items) });
    await b.idle();
    expect(sentByB).toEqual([]);
    expect(reservedOf(b, SKU_A)).toBe(0);
    // B takes every partition: the hold is applied from its copy of the outbox, once.
    b.setRemote({ isLocal: () => true, send: (items) => void sentByB.push(...items) });
    await b.idle();
    expect(sentByB).toEqual([]);
    expect(reservedOf(b, SKU_A)).toBe(2);
    await a.close();
    expect(await answer).toMatchObject({ code: 'unavailable' });
  });
});

describe('engines on threads of their own, with a replicator that fails', () => {
  it('retry through the requests thread until it succeeds, and close while it fails', { timeout: 30_000 }, async () => {
    const dir = dirs.make();
    const e = await openThreadedEngine({ path: dir, domains: {}, partitions: PARTITIONS, threads: 2, autoTimers: false });
    open.push(e);
    await e.submit(locations);
    // Whatever the locations' batches set off lands before the replicator counts batches.
    await e.idle();
    const batchIds: string[] = [];
    let failing = 2;
    const thirdCall = deferred<void>();
    // Only the receipt's batch is failed and counted: the other engine thread may replicate a
    // batch of its own meanwhile.
    const receiptPartition = partitionOf(SKU_A, PARTITIONS);
    e.setReplicator({
      async replicate(changes, batchId) {
        if (!changes.some((c) => c.partition === receiptPartition)) return changes.map(() => 1);
        batchIds.push(batchId);
        if (batchIds.length === 3) thirdCall.resolve();
        if (failing-- > 0) throw new Error('changelog unavailable');
        return changes.map(() => 5);
      },
    });
    expect(await e.submit([{ id: 'rcv-t', type: 'stock.received', sku: SKU_A, location: 'S1', qty: 3 }])).toEqual([{ id: 'rcv-t', ok: true }]);
    await thirdCall.promise;
    expect(new Set(batchIds).size).toBe(1);
    expect(e.changelogPosition(partitionOf(SKU_A, PARTITIONS))).toBe(5);

    // From now on it never succeeds: close gives up on the batch, whose sender hears the engine closed.
    const answer = await closedWhileFailing(e, 'lost-t');
    expect(answer).toBeInstanceOf(Error);
    const again = await start(dir);
    expect((again.snapshot(`stock/${SKU_A}`)?.data as { onHand?: number } | undefined)?.onHand).toBe(3);
  });
});

/** Submits event `id` to an engine whose replicator always fails, closes it once replication was tried; the sender's outcome. */
async function closedWhileFailing(e: Engine | ThreadedEngine, id: string): Promise<EventResult[] | Error> {
  const called = deferred<void>();
  e.setReplicator({
    replicate() {
      called.resolve();
      return Promise.reject(new Error('changelog unavailable'));
    },
  });
  const answer = e.submit([{ id, type: 'stock.received', sku: SKU_A, location: 'S1', qty: 7 }]).catch((err: Error) => err);
  await called.promise;
  await e.close();
  return answer;
}

/** A promise and the functions settling it. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('a replicator that fails', () => {
  it('holds the batch: nothing committed or answered until a retry of the same changes succeeds', async () => {
    const calls: Array<{ changes: PartitionChange[]; batchId: string; reply: ReturnType<typeof deferred<number[]>> }> = [];
    let called = deferred<void>();
    const a = await start(dirs.make());
    await a.submit(locations);
    a.setReplicator({
      replicate(changes, batchId) {
        const reply = deferred<number[]>();
        calls.push({ changes, batchId, reply });
        called.resolve();
        return reply.promise;
      },
    });
    const outputs: Output[] = [];
    a.onOutput((o) => void outputs.push(...o));
    let answered = false;
    const answer = a.submit([{ id: 'rcv', type: 'stock.received', sku: SKU_A, location: 'S1', qty: 7 }]).then((r) => ((answered = true), r));
    const p = partitionOf(SKU_A, PARTITIONS);
    for (let attempt = 1; attempt <= 2; attempt++) {
      await called.promise;
      called = deferred<void>();
      calls[attempt - 1].reply.reject(new Error('changelog unavailable'));
    }
    await called.promise;
    expect(calls).toHaveLength(3);
    // The same changes and batch id each time.
    expect(calls[1].changes).toBe(calls[0].changes);
    expect(calls[2].changes).toBe(calls[0].changes);
    expect(new Set(calls.map((c) => c.batchId)).size).toBe(1);
    expect(calls[0].changes.map((c) => c.partition)).toContain(p);
    // Still failing: nothing durable, answered or released.
    expect(answered).toBe(false);
    expect(outputs).toEqual([]);
    expect(a.snapshot(`stock/${SKU_A}`)).toBeUndefined();
    expect(a.changelogPosition(p)).toBe(0);

    calls[2].reply.resolve(calls[2].changes.map((_, i) => 40 + i));
    expect(await answer).toEqual([{ id: 'rcv', ok: true }]);
    expect(answered).toBe(true);
    expect(a.snapshot(`stock/${SKU_A}`)?.data).toMatchObject({ onHand: 7 });
    expect(a.changelogPosition(calls[2].changes[0].partition)).toBe(40);
    expect(outputs.map((o) => o.topic)).toContain(`stock/${SKU_A}`);
  });

  it('closes without committing the batch it could not replicate; its sender hears the engine closed', async () => {
    const dir = dirs.make();
    const a = await start(dir);
    await a.submit(locations);
    expect(await closedWhileFailing(a, 'lost')).toMatchObject({ code: 'unavailable' });
    const again = await start(dir);
    expect(again.snapshot(`stock/${SKU_A}`)).toBeUndefined();
    // Not applied before: the same event is applied now, not answered as a duplicate.
    expect(await again.submit([{ id: 'lost', type: 'stock.received', sku: SKU_A, location: 'S1', qty: 7 }])).toEqual([{ id: 'lost', ok: true }]);
  });
});

/** What a copy holds once partition p's changes up to positions[p] are applied: their writes folded in order. */
function folded(logs: PartitionChange[][], positions: number[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = { state: {}, timers: {}, outbox: {}, dedup: {} };
  for (const [p, log] of logs.entries()) {
    for (const change of log.slice(0, positions[p])) {
      for (const [db, key, value] of change.writes) {
        if (value === undefined) delete out[db][key];
        else out[db][key] = value;
      }
    }
    if (positions[p] > 0) out.state[`$cl/${p}`] = positions[p];
  }
  for (const db of Object.keys(out)) if (Object.keys(out[db]).length === 0) delete out[db];
  return out;
}

describe('a process applying changes, killed with SIGKILL at random moments', () => {
  it('reopens with each partition\'s changelog position and state agreeing, and ends with every change applied once', { timeout: 120_000 }, async () => {
    // The changelog of an owner's traffic, written where the process reads it.
    const changelog = new TestChangelog();
    const a = await start(dirs.make());
    a.setReplicator(changelog);
    const skus = Array.from({ length: 12 }, (_, i) => `crash-sku-${i}`);
    await a.submit(locations);
    const rng = prng(7);
    for (let i = 0; i < 150; i++) {
      const sku = rng.pick(skus);
      const ev: InputEvent = rng.chance(0.3) ? hold(`crash-${i}`, sku, 60_000) : { id: `crash-${i}`, type: 'stock.received', sku, location: 'S1', qty: rng.int(1, 5) };
      await a.submit([ev]);
    }
    await a.close();
    const file = join(dirs.make(), 'changelog.msgpack');
    writeFileSync(file, new Packr({ useRecords: false, moreTypes: false }).pack(changelog.logs));
    const total = changelog.logs.reduce((n, log) => n + log.length, 0);

    const dir = dirs.make();
    let kills = 0;
    for (let run = 0; run < 8; run++) {
      const child = spawn(process.execPath, [fixture.file('changelog-applier'), dir, file, String(PARTITIONS), String(run + 1)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += String(d)));
      const killAfter = rng.int(1, Math.ceil(total / 8));
      let applied = 0;
      let done = false;
      for await (const line of createInterface({ input: child.stdout })) {
        if (line === 'done') done = true;
        else if (line.startsWith('applied ') && ++applied === killAfter && run < 7) child.kill('SIGKILL');
      }
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
        else child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      if (!done && exit.signal !== 'SIGKILL') throw new Error(`changelog-applier failed (${exit.code}): ${stderr}`);
      // The reopened dir: every partition's state is its changes folded up to its position, nothing more or less.
      const contents = await contentsOf(dir);
      const positions = changelog.logs.map((_, p) => (contents.state[`$cl/${p}`] as number | undefined) ?? 0);
      expect(contents).toEqual(folded(changelog.logs, positions));
      if (exit.signal === "SIGKILL") kills++;
      if (done) {
        expect(positions).toEqual(changelog.logs.map((log) => log.length));
        break;
      }
    }
    expect(kills).toBeGreaterThan(0);
  });
});
