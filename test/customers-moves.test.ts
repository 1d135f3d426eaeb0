// The customer domain's state moving between partitions while other work for it is on its way:
// a merge's moves against activity and order news sent at the same time, in whichever order the
// partitions see them (the pure runner's queue, reordered by hand), and one request holding a
// link and the activity after it, with one engine thread and with two.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerProcessor, openEngine, openThreadedEngine, defaultProcessors, stockProcessor, wiredServiceProcessor } from '../engine/mod.ts';
import { allBut, PureRunner } from './pure-harness.ts';
import { engineThreadFile } from './bundle-harness.ts';

// Engine threads start from engine-thread.ts bundled once (engine-thread-link.ts reads
// OMNI_ENGINE_THREAD_FILE), not compiled through tsx in each thread again.
beforeAll(async () => {
  process.env.OMNI_ENGINE_THREAD_FILE = await engineThreadFile();
});

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function runner(): PureRunner {
  const r = new PureRunner([customerProcessor(), stockProcessor(), wiredServiceProcessor()]);
  r.apply({ type: 'location.upserted', location: 'S1', kind: 'store', lat: 1, lon: 2 });
  r.apply({ type: 'stock.received', sku: 'A', location: 'S1', qty: 9 });
  return r;
}

describe('work for a customer arriving while its state moves', () => {
  it('an order fulfilled while the link that takes its customer moves it: the survivor has it fulfilled', () => {
    const r = runner();
    r.apply({ type: 'order.placed', order: 'o1', customer: 'phone:+1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' });
    expect(r.state.get('cu/orders/phone:+1')).toEqual([expect.objectContaining({ order: 'o1', status: 'placed' })]);
    r.autoDrain = false;
    r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1'] });
    r.apply({ type: 'order.fulfilled', order: 'o1' });
    // The order's news reaches phone:+1's partition before the link's move does.
    r.drain();
    r.autoDrain = true;
    const list = r.state.get('cu/orders/acct1') as Array<{ order: string; status: string }>;
    expect(list).toEqual([expect.objectContaining({ order: 'o1', status: 'completed' })]);
    expect(r.state.get('cu/orders/phone:+1')).toBeUndefined();
  });

  it('the news and the move in either order give the same orders', () => {
    const outcomes = [false, true].map((newsFirst) => {
      const r = runner();
      r.apply({ type: 'order.placed', order: 'o1', customer: 'phone:+1', lines: [{ sku: 'A', qty: 1 }], pickup: 'S1' });
      r.autoDrain = false;
      r.apply({ type: 'identity.linked', ids: ['acct1', 'phone:+1'] });
      r.apply({ type: 'order.fulfilled', order: 'o1' });
      // News first: everything but the link's move, so the news is applied where phone:+1 keeps its orders.
      if (newsFirst) {
        allBut(r, 'customer.moved');
        expect(r.state.get('cu/orders/phone:+1')).toEqual([expect.objectContaining({ order: 'o1', status: 'completed' })]);
      }
      r.drain();
      return r.state.get('cu/orders/acct1');
    });
    expect(outcomes[0]).toEqual([expect.objectContaining({ order: 'o1', status: 'completed' })]);
    expect(outcomes[1]).toEqual(outcomes[0]);
  });

  it('activity of an attached id before or after its move: applied once, in the survivor’s session', () => {
    const logs = [false, true].map((beforeMove) => {
      const r = runner();
      r.apply({ type: 'identity.linked', ids: ['acct1'], ts: T0 });
      r.apply({ type: 'activity.viewed', subject: 'acct1', sku: 'A', channel: 'web', ts: T0 });
      r.apply({ type: 'activity.viewed', subject: 'device:x', sku: 'B', channel: 'web', ts: T0 + MIN });
      r.autoDrain = !beforeMove;
      r.apply({ type: 'identity.linked', ids: ['acct1', 'device:x'], ts: T0 + 2 * MIN });
      // Before the move: applied where device:x keeps its session, which the move then carries.
      const viewed = r.apply({ type: 'activity.viewed', subject: 'device:x', sku: 'C', channel: 'web', ts: T0 + 3 * MIN });
      r.drain();
      expect(viewed.result).toMatchObject({ ok: true, customer: beforeMove ? 'device:x' : 'acct1' });
      expect(r.state.get('cu/sess/device:x')).toBeUndefined();
      const sess = r.state.get('cu/sess/acct1') as { id: string };
      return (r.state.get(`rec/s/${sess.id}`) as { i: string[] }).i;
    });
    expect(logs[0]).toEqual(['A', 'B', 'C']);
    expect(logs[1]).toEqual(logs[0]);
  });
});

describe('an item first seen in a session a merge moves', () => {
  it('is indexed for the survivor’s session even when that comes before the item’s first activity', () => {
    const r = runner();
    r.apply({ type: 'identity.linked', ids: ['acct1'], ts: T0 });
    r.apply({ type: 'activity.viewed', subject: 'acct1', sku: 'A', channel: 'web', ts: T0 });
    r.autoDrain = false;
    // NEW's first activity: its item half waits (as after a restart, re-sent after the merge's).
    r.apply({ type: 'activity.viewed', subject: 'device:x', sku: 'NEW', channel: 'web', ts: T0 + MIN });
    r.apply({ type: 'identity.linked', ids: ['acct1', 'device:x'], ts: T0 + 2 * MIN });
    allBut(r, 'rec.item');
    expect(r.state.get('rec/i/NEW')).toMatchObject({ s: ['acct1#1'] });
    r.drain();
    const head = r.state.get('rec/i/NEW') as { s: string[]; l: number };
    expect(head.s).toEqual(['acct1#1', 'device:x#1']);
    // Counted once, by its activity.
    expect(Number.isFinite(head.l)).toBe(true);
    // One view a minute after A's one view (half-life a day): A's score and a minute's growth.
    expect(head.l).toBeCloseTo((r.state.get('rec/i/A') as { l: number }).l + (MIN * Math.LN2) / (24 * 3600 * 1000), 9);
  });
});

describe('a request holding a link and the activity after it', () => {
  const root = mkdtempSync(join(tmpdir(), 'omni-customer-moves-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;

  it('is answered alike with one engine thread and with two: the activity comes after the link’s moves', async () => {
    const request = [
      { id: 'l1', type: 'identity.linked', ids: ['acct1'], ts: T0 },
      { id: 'v1', type: 'activity.viewed', subject: 'acct1', sku: 'A', channel: 'web', ts: T0 },
      // device:x opened its session two hours before the link.
      { id: 'v2', type: 'activity.viewed', subject: 'device:x', sku: 'B', channel: 'web', ts: T0 - 120 * MIN },
    ];
    const then = [
      { id: 'l2', type: 'identity.linked', ids: ['acct1', 'device:x'], ts: T0 + MIN },
      { id: 'v3', type: 'activity.viewed', subject: 'device:x', sku: 'C', channel: 'web', ts: T0 + 2 * MIN },
    ];
    const answers = [];
    for (const threads of [1, 2]) {
      const path = join(root, String(++n));
      const engine = threads === 1 ? await openEngine({ path, processors: defaultProcessors(), durability: 'none' }) : await openThreadedEngine({ path, domains: {}, durability: 'none', threads });
      try {
        await engine.submit(request);
        const got = await engine.submit(then);
        await engine.idle();
        answers.push({ got, session: engine.read('cu/sess/acct1') });
      } finally {
        await engine.close();
      }
    }
    expect(answers[0].got[1]).toMatchObject({ ok: true, customer: 'acct1' });
    expect(answers[1]).toEqual(answers[0]);
  });
});
