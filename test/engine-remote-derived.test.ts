// Derived events between nodes, without NATS (remote-partitions.ts): two engines with data dirs of
// their own, node A applying the even partitions and node B the odd ones (setRemote), wired by an
// in-memory log per partition (fixtures/remote-log.ts) into which events are entered and derived
// events for the other node's partitions are appended, each node feeding its own partitions'
// logs with submitLogged. Checked: orders, a reservation and identity links across the two nodes
// answer and end in the same state as one engine applying every partition; a derived event is
// re-sent until derivedSent, applied once however often its log holds it, and applied from the
// outbox when its partition becomes local; an answer produced for an event taken elsewhere goes
// to `answered`; and a node killed with SIGKILL between commits and derivedSent has every derived
// event it emitted applied exactly once by the other node.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { open as openLmdb } from 'lmdb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openThreadedEngine, type Engine, type EngineOptions, type EventResult, type InputEvent, type Processor, type RemoteDerived, type ThreadedEngine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { lmdbOptions } from '../engine/store.ts';
import { resKey } from '../engine/stock/types.ts';
import { bundle, type Bundle } from './bundle-harness.ts';
import { CUSTOMER_SCENARIOS } from './fixtures/customer-saga-scenarios.ts';
import { LOCATION, PARTITIONS as FEED_PARTITIONS, skusOn } from './fixtures/log-feed.ts';
import { prng, ROOT, tempDirs } from './fixtures/omni-process.ts';
import { LogNode, runToQuiet, TestLogs } from './fixtures/remote-log.ts';
import { locations, PARTITIONS, SCENARIOS, SKU_A } from './fixtures/saga-scenarios.ts';

const dirs = tempDirs('omni-remote-derived-test-');
afterAll(() => dirs.cleanup());

/**
 * Node A's process bundled once (bundle-harness.ts), with the engine thread's file: each
 * process this file starts, and each engine thread it opens, loads plain JavaScript instead of
 * compiling the engine's modules through tsx again (most of a start's time).
 */
let fixture: Bundle;
beforeAll(async () => {
  fixture = await bundle({ 'remote-deriver': 'test/fixtures/remote-deriver.ts' });
  process.env.OMNI_ENGINE_THREAD_FILE = fixture.file('engine-thread');
});
afterAll(() => fixture?.remove());

const even = (p: number) => p % 2 === 0;
const odd = (p: number) => !even(p);
let clock: { t: number; now(): number };
const open: Array<Engine | ThreadedEngine> = [];

async function start(path: string, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  const e = await openEngine({ path, processors: defaultProcessors({}), partitions: PARTITIONS, clock, autoTimers: false, ...extra });
  open.push(e);
  return e;
}

beforeEach(() => {
  clock = { t: 1_700_000_000_000, now() { return this.t; } };
});
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

/** Every state key of a closed data dir but the engine's own (`$…`: checkpoints, seqs, positions, which batching changes). */
async function stateOf(path: string): Promise<Map<string, unknown>> {
  const root = openLmdb(lmdbOptions({ path }));
  try {
    const db = root.openDB<unknown, string>({ name: 'state' });
    const out = new Map<string, unknown>();
    for (const { key, value } of db.getRange()) if (!String(key).startsWith('$')) out.set(String(key), value);
    return out;
  } finally {
    await root.close();
  }
}

/** The stock and customer sagas, one event after the other (repeated set-up events once). */
function traffic(): InputEvent[] {
  const seen = new Set(locations.map((l) => l.id));
  const out: InputEvent[] = [];
  for (const s of [...Object.values(SCENARIOS), ...Object.values(CUSTOMER_SCENARIOS)]) {
    for (const ev of [...s.setup, s.saga]) {
      if (seen.has(ev.id)) continue;
      seen.add(ev.id);
      out.push(ev);
    }
  }
  return out;
}

/** One engine applying every partition: its answers, one event after the other. */
async function reference(path: string, events: readonly InputEvent[], extra: Partial<EngineOptions> = {}): Promise<EventResult[]> {
  const one = await start(path, extra);
  expect((await one.submit(locations)).every((r) => r.ok)).toBe(true);
  const answers: EventResult[] = [];
  for (const ev of events) {
    answers.push((await one.submit([ev]))[0]);
    await one.idle();
  }
  await one.close();
  return answers;
}

type OpenNode = (path: string, remote: LogNode['remote']) => Promise<Engine | ThreadedEngine>;

/** Node A (even partitions) and node B (odd) fed from the logs, each event entered once the one before is answered. */
async function cluster(events: readonly InputEvent[], openA: OpenNode, openB: OpenNode) {
  const logs = new TestLogs(PARTITIONS);
  const nodes = [new LogNode(logs, even), new LogNode(logs, odd)];
  const nodeDirs = [dirs.make(), dirs.make()];
  for (const [i, node] of nodes.entries()) {
    const e = await (i === 0 ? openA : openB)(nodeDirs[i], node.remote);
    open.push(e);
    node.attach(e);
    // Locations are read by every SKU's partition: state each node needs whoever owns it (submitted, not logged).
    expect((await e.submit(locations)).every((r) => r.ok)).toBe(true);
  }
  const answers: EventResult[] = [];
  for (const ev of events) {
    const answer = logs.enter(ev);
    await runToQuiet(nodes);
    answers.push(await answer);
  }
  // Some derived events really crossed: more entries than events entered.
  expect(logs.length).toBeGreaterThan(events.length + 10);
  // Every saga ended where it started: nothing answered elsewhere.
  expect(nodes.flatMap((n) => n.unheard)).toEqual([]);
  for (const e of open.splice(0)) await e.close();
  return { answers, nodeDirs };
}

describe('derived events between two nodes through partition logs', () => {
  it('answers orders, a reservation and identity links as one engine does, and ends in the same state', { timeout: 60_000 }, async () => {
    const events = traffic();
    const oneDir = dirs.make();
    const expected = await reference(oneDir, events);
    const inThisThread: OpenNode = (path, remote) => openEngine({ path, processors: defaultProcessors({}), partitions: PARTITIONS, clock, autoTimers: false, remote });
    const { answers, nodeDirs } = await cluster(events, inThisThread, inThisThread);
    expect(answers).toEqual(expected);

    const [a, b] = await Promise.all(nodeDirs.map(stateOf));
    const union = new Map(a);
    for (const [key, value] of b) {
      // Only what both need whoever owns it (the locations) is in both dirs, the same.
      if (union.has(key)) expect([key, union.get(key)]).toEqual([key, value]);
      union.set(key, value);
    }
    expect([...union.keys()].filter((key) => a.has(key) && b.has(key)).sort()).toEqual([...locations.map((l) => `stock/loc/${l.location as string}`), 'stock/locations'].sort());
    expect(Object.fromEntries([...union].sort())).toEqual(Object.fromEntries([...(await stateOf(oneDir))].sort()));
  });

  it('answers the same with node B on two engine threads (setRemote given to each)', { timeout: 60_000 }, async () => {
    const events = traffic();
    // Engine threads keep their own clock: the reference and node A too, here.
    const expected = await reference(dirs.make(), events, { clock: undefined });
    const openA: OpenNode = (path, remote) => openEngine({ path, processors: defaultProcessors({}), partitions: PARTITIONS, autoTimers: false, remote });
    const openB: OpenNode = async (path, remote) => {
      // Opened with every partition local, then told: the threads take the change at run time.
      const e = await openThreadedEngine({ path, domains: {}, partitions: PARTITIONS, threads: 2, autoTimers: false });
      e.setRemote(remote);
      return e;
    };
    const { answers } = await cluster(events, openA, openB);
    // Only a reservation's expiry, from each side's clock, may differ.
    expect(answers).toEqual(expected.map((r) => ('expiresAt' in r ? { ...r, expiresAt: expect.any(Number) } : r)));
    expect(answers.filter((r) => 'expiresAt' in r)).toHaveLength(1);
  });
});

const reservedOf = (e: Pick<Engine, 'snapshot'>, sku: string) => (e.snapshot(`stock/${sku}`)?.data as { reserved: number } | undefined)?.reserved ?? 0;
const reserve = (reservation: string, sku: string, qty: number): InputEvent => ({ id: `res-${reservation}`, type: 'stock.reserve', reservation, sku, location: 'S1', qty, ttlMs: 30 * 24 * 3600 * 1000 });
/** A derived event sent by a node, as its partition's log holds it at `seq`. */
const logged = (seq: number, item: RemoteDerived) => ({ seq, derived: item.event, arrival: item.arrival });

describe('a derived event for a partition of another node', () => {
  it('is re-sent until derivedSent, applied once however often its log holds it, and from the outbox once its partition is local', async () => {
    const sku = SKU_A;
    const q = partitionOf(sku, PARTITIONS);
    const sent: RemoteDerived[] = [];
    const send = (items: RemoteDerived[]) => void sent.push(...items);
    const qRemote = { isLocal: (p: number) => p !== q, send };
    const allLocal = { isLocal: () => true, send };
    const dir = dirs.make();
    let e = await start(dir);
    await e.submit([...locations, { id: 'in-a', type: 'stock.received', sku, location: 'S1', qty: 10 }]);
    e.setRemote(qRemote);

    // Entered in the reservation partition's log, as a node applying it reads them.
    const [r1, r2] = Array.from({ length: 200 }, (_, i) => `R${i}`).filter((r) => partitionOf(resKey(r), PARTITIONS) === partitionOf(resKey('R0'), PARTITIONS));
    const pr = partitionOf(resKey(r1), PARTITIONS);
    expect(pr).not.toBe(q);
    const first = e.submitLogged(pr, [{ seq: 1, event: reserve(r1, sku, 2) }]);
    await e.idle();
    // The reservation's partition asks the SKU's, on the other node, for the stock: sent after the commit.
    expect(sent.map((s) => [s.partition, s.event.type])).toEqual([[q, 'stock.hold']]);
        expect(reservedOf(e, sku)).toBe(0);
    // Not confirmed: given again with the remote partitions.
    e.setRemote(qRemote);
    expect(sent).toEqual([sent[0], sent[0]]);
    // Its partition comes here: applied from the outbox, and the reservation is answered.
    e.setRemote(allLocal);
    expect((await first)[0]).toMatchObject({ id: `res-${r1}`, ok: true });
    expect(reservedOf(e, sku)).toBe(2);
    // The copies its log holds (appended before the partition moved) are answered, not applied.
    const hold1 = sent[0];
    expect(await e.submitLogged(q, [logged(1, hold1), logged(2, hold1)])).toEqual([1, 2].map(() => ({ id: hold1.event.id, ok: true, duplicate: true })));
    expect(reservedOf(e, sku)).toBe(2);
    expect(e.logPosition(q)).toBe(2);
    // Nothing left to send.
    sent.length = 0;
    e.setRemote(qRemote);
    expect(sent).toEqual([]);

    // Another, closed before derivedSent: sent again at open.
    const second = e.submitLogged(pr, [{ seq: 2, event: reserve(r2, sku, 3) }]);
    await e.idle();
    expect(sent).toHaveLength(1);
    await e.close();
    await expect(second).rejects.toThrow();
    e = await start(dir, { remote: qRemote });
    expect(sent).toEqual([sent[0], sent[0]]);
    const hold2 = sent[0];
    // Confirmed: out of the outbox, given no more.
    e.derivedSent([hold2.outboxKey]);
    await e.idle();
    e.setRemote(qRemote);
    expect(sent).toHaveLength(2);
    // The partition comes here; its log holds the event twice: applied once, and the retry of the reservation gets its answer.
    e.setRemote(allLocal);
    // Its entry fed again after the restart (the reader resumes at the position): it waits for the answer.
    const retry = e.submitLogged(pr, [{ seq: 2, event: reserve(r2, sku, 3) }]);
    expect(await e.submitLogged(q, [logged(3, hold2), logged(4, hold2)])).toEqual([
      { id: hold2.event.id, ok: true },
      { id: hold2.event.id, ok: true, duplicate: true },
    ]);
    expect((await retry)[0]).toMatchObject({ id: `res-${r2}`, ok: true, duplicate: true });
    expect(reservedOf(e, sku)).toBe(5);
    expect(e.logPosition(q)).toBe(4);
    // Log entries that are no derived event of this partition are refused, and the position passes them.
    const [stray, bogus] = await e.submitLogged(pr, [logged(3, hold2), { seq: 4, derived: { id: 'x', type: 'stock.received' } as never, arrival: 0 }]);
    expect(stray).toMatchObject({ id: hold2.event.id, ok: false, error: { code: 'wrong_partition' } });
    expect(bogus).toMatchObject({ id: 'x', ok: false, error: { code: 'invalid_event' } });
    expect(reservedOf(e, sku)).toBe(5);
  });

  it('refuses remote partitions without their functions, and goes on when send throws (sending again later)', async () => {
    await expect(start(dirs.make(), { remote: { isLocal: () => true } as never })).rejects.toThrow(TypeError);
    const e = await start(dirs.make());
    expect(() => e.setRemote({ isLocal: 'yes', send: () => undefined } as never)).toThrow(TypeError);
    const sku = SKU_A;
    const q = partitionOf(sku, PARTITIONS);
    await e.submit([...locations, { id: 'in-a', type: 'stock.received', sku, location: 'S1', qty: 10 }]);
    const got: RemoteDerived[] = [];
    let calls = 0;
    const remote = {
      isLocal: (p: number) => p !== q,
      send: (items: RemoteDerived[]) => {
        if (++calls === 1) throw new Error('the log is down');
        got.push(...items);
      },
    };
    e.setRemote(remote);
    void e.submitLogged(partitionOf(resKey('R0'), PARTITIONS), [{ seq: 1, event: reserve('R0', sku, 1) }]).catch(() => undefined);
    await e.idle();
    expect([calls, got]).toEqual([1, []]);
    e.setRemote(remote);
    expect(got.map((x) => x.event.type)).toEqual(['stock.hold']);
    expect(await e.submit([{ id: 'in-b', type: 'stock.received', sku, location: 'S1', qty: 1 }])).toEqual([{ id: 'in-b', ok: true }]);
  });

  it('answers an event taken on another node through `answered`, as one engine answers its sender', async () => {
    const id = { kind: 'id' } as const;
    // `ask` (keyed by its ticket) is left pending; the step it emits answers it from the target's partition.
    const relay: Processor = {
      name: 'relay',
      types: ['ask'],
      internalTypes: ['relay.answer'],
      topicPrefixes: [],
      schemas: { ask: { ticket: id, target: id } },
      partitionKey: (ev) => (ev.type === 'ask' ? (ev.ticket as string) : (ev.target as string)),
      apply: (_view, ev) =>
        ev.type === 'ask'
          ? { result: { ok: true, pending: true }, emit: [{ id: `${ev.id}/answer`, type: 'relay.answer', target: ev.target, origin: ev.id }] }
          : { result: { ok: true }, answers: [{ id: ev.origin as string, result: { ok: true, by: ev.target } }] },
      onTimer: () => ({}),
      render: () => undefined,
    };
    const pick = (prefix: string, on: (p: number) => boolean) => Array.from({ length: 64 }, (_, i) => `${prefix}${i}`).find((k) => on(partitionOf(k, PARTITIONS)))!;
    const ask = { id: 'ask-1', type: 'ask', ticket: pick('t', even), target: pick('g', odd) };

    const one = await start(dirs.make(), { processors: [relay] });
    const [expected] = await one.submit([ask]);
    expect(expected).toEqual({ id: 'ask-1', ok: true, by: ask.target });

    const logs = new TestLogs(PARTITIONS, [relay]);
    const nodes = [new LogNode(logs, even), new LogNode(logs, odd)];
    for (const node of nodes) node.attach(await start(dirs.make(), { processors: [relay], remote: node.remote }));
    let answeredOnA = false;
    void logs.enter(ask).then(() => (answeredOnA = true));
    await runToQuiet(nodes);
    // Entered, applied on node A, its step applied on node B.
    expect(logs.logs.flat().map((x) => ('derived' in x ? x.derived.type : (x.event as InputEvent).type)).sort()).toEqual(['ask', 'relay.answer']);
    await runToQuiet(nodes);
    expect(nodes[1].unheard).toEqual([expected]);
    expect(nodes[0].unheard).toEqual([]);
    // Node A's sender waits for what the cluster forwards: nothing here answers it.
    expect(answeredOnA).toBe(false);
  });
});

describe('a node killed with SIGKILL between the commits that emit derived events and derivedSent', () => {
  const SEED = Number(process.env.OMNI_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const KILLS = 6;
  const RESERVATIONS = 120;

  it(`has every derived event it emitted applied exactly once on the other node (seed ${SEED})`, { timeout: 180_000 }, async () => {
    const rng = prng(SEED);
    const logs = new TestLogs(FEED_PARTITIONS);
    const b = new LogNode(logs, odd);
    const nodeB = await openEngine({ path: dirs.make(), processors: defaultProcessors({}), partitions: FEED_PARTITIONS, remote: b.remote });
    open.push(nodeB);
    b.attach(nodeB);
    await nodeB.submit([LOCATION]);
    const skus = [1, 3, 5, 7].map((p) => skusOn(p, 1)[0]);
    for (const sku of skus) void logs.enter({ id: `in-${sku}`, type: 'stock.received', sku, location: 'S1', qty: 1000 });
    await runToQuiet([b]);
    // Reservations taken by node A (even partitions), each holding one unit of a SKU of node B.
    const reservations: InputEvent[] = [];
    for (let i = 0; reservations.length < RESERVATIONS; i++) {
      if (even(partitionOf(resKey(`R${i}`), FEED_PARTITIONS))) reservations.push(reserve(`R${i}`, skus[reservations.length % skus.length], 1));
    }
    for (const ev of reservations) void logs.enter(ev);

    /** Runs node A (remote-deriver.ts) until it has sent `killAt` times, then kills it (`mode`: before the append, after it, after `sent`). */
    async function round(dir: string, killAt: number, mode: number): Promise<boolean> {
      const child = spawn(process.execPath, [fixture.file('remote-deriver'), dir], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.stdin.on('error', () => undefined);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const keys: string[] = [];
      let sends = 0;
      let killed = false;
      const kill = async () => {
        killed = true;
        child.kill('SIGKILL');
        await exited;
      };
      /** The next line starting with `want` (the sends before it handled); undefined once killed. */
      const until = async (want: string): Promise<string | undefined> => {
        for (;;) {
          const { value, done } = await lines.next();
          if (done) {
            if (killed) return undefined;
            throw new Error(`remote-deriver ended early: ${stderr}`);
          }
          const [word, ...rest] = (value as string).split(' ');
          if (word === want) return rest.join(' ');
          if (word !== 'send') continue;
          const items = JSON.parse(rest.join(' ')) as RemoteDerived[];
          const last = ++sends === killAt;
          if (last && mode === 0) return void (await kill());
          for (const item of items) logs.appendDerived(item);
          // Node B applies them at once: a copy sent again after a kill comes in a later batch.
          b.pump();
          await nodeB.idle();
          if (last && mode === 1) return void (await kill());
          keys.push(...items.map((item) => item.outboxKey));
          if (!last) continue;
          child.stdin.write(`sent ${JSON.stringify(keys.splice(0))}\n`);
          return void (await kill());
        }
      };
      const ready = await until('ready');
      if (ready === undefined) return true;
      const fed = JSON.parse(ready) as number[];
      for (;;) {
        let moved = false;
        for (let p = 0; p < FEED_PARTITIONS; p += 2) {
          const entries = logs.logs[p].slice(fed[p], fed[p] + rng.int(1, 3));
          if (entries.length === 0) continue;
          fed[p] = entries[entries.length - 1].seq;
          moved = true;
          child.stdin.write(`feed ${p} ${JSON.stringify(entries)}\n`);
        }
        if (keys.length > 0) {
          child.stdin.write(`sent ${JSON.stringify(keys.splice(0))}\n`);
          moved = true;
        }
        child.stdin.write('idle\n');
        if ((await until('idle')) === undefined) return true;
        moved = b.pump() || moved;
        await nodeB.idle();
        if (!moved) break;
      }
      child.stdin.end();
      if ((await until('done')) === undefined) return true;
      await exited;
      return false;
    }

    const dirA = dirs.make();
    let kills = 0;
    for (let r = 0; r < KILLS; r++) if (await round(dirA, rng.int(1, 3), (r + 1) % 3)) kills++;
    expect(await round(dirA, Number.MAX_SAFE_INTEGER, 0)).toBe(false);
    expect(kills).toBeGreaterThan(0);

    // Node B held each reservation once, though its logs hold some holds twice (sent again after a kill).
    const holdsLogged = logs.logs.flat().filter((x) => 'derived' in x && x.derived.type === 'stock.hold').length;
    expect(holdsLogged).toBeGreaterThan(RESERVATIONS);
    expect(nodeB.stats().eventsByTypeAndResult.get('stock.hold|ok')).toBe(RESERVATIONS);
    for (const [i, sku] of skus.entries()) expect(reservedOf(nodeB, sku)).toBe(reservations.filter((_, n) => n % skus.length === i).length);
    // Node A: every reservation answered (held), nothing left in its outbox to send.
    const sentAtOpen: RemoteDerived[] = [];
    const nodeA = await openEngine({ path: dirA, processors: defaultProcessors({}), partitions: FEED_PARTITIONS, remote: { isLocal: even, send: (items) => void sentAtOpen.push(...items) } });
    open.push(nodeA);
    expect(sentAtOpen).toEqual([]);
    expect((await nodeA.submit(reservations)).every((x) => x.ok && x.duplicate === true)).toBe(true);
  });
});
