// The push layer's pieces without sockets: topic history, the hub's fan-out / resume / memory
// rules against a stand-in engine, a connection's queue against a stand-in socket, and the
// token bucket.

import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'uWebSockets.js';
import type { Output } from '../engine/mod.ts';
import { WsConnection, type SocketData } from '../gateway/ws/connection.ts';
import type { PushEngine } from '../gateway/ws/engine-port.ts';
import { DEFAULT_WS_LIMITS, checkWsLimits, type WsLimits } from '../gateway/ws/limits.ts';
import { updateMessage, type OutMessage } from '../gateway/ws/out-message.ts';
import { TokenBucket } from '../gateway/ws/rate-limit.ts';
import { TopicHistory } from '../gateway/ws/topic-history.ts';
import { TopicHub, type Subscriber } from '../gateway/ws/topic-hub.ts';

class FakeEngine implements PushEngine {
  epoch = 'E1';
  seqs = new Map<string, number>();
  state = new Map<string, unknown>();
  interest: ((topic: string) => boolean) | undefined;
  listener: ((outputs: Output[]) => void) | undefined;
  snapshot(topic: string) {
    const data = this.state.get(topic);
    return data === undefined ? undefined : { seq: this.lastSeq(topic), epoch: this.epoch, data };
  }
  lastSeq(topic: string) {
    return this.seqs.get(topic) ?? 0;
  }
  setInterest(p: ((topic: string) => boolean) | undefined) {
    this.interest = p;
  }
  onOutput(l: (outputs: Output[]) => void) {
    this.listener = l;
    return () => (this.listener = undefined);
  }
  /** Commits one update per topic; unwatched state topics move their seq without an output. */
  commit(...topics: string[]) {
    const outputs: Output[] = [];
    for (const topic of topics) {
      const seq = this.lastSeq(topic) + 1;
      this.seqs.set(topic, seq);
      this.state.set(topic, { v: seq });
      if (this.interest?.(topic) ?? true) outputs.push({ topic, seq, data: { v: seq }, ts: 1 });
    }
    this.listener?.(outputs);
  }
}

class Sink implements Subscriber {
  got: OutMessage[] = [];
  flushes = 0;
  push(m: OutMessage) {
    this.got.push(m);
  }
  flush() {
    this.flushes++;
  }
  seqs() {
    return this.got.map((m) => `${m.body.op}:${m.body.seq}`);
  }
}

function hub(limits: Partial<WsLimits> = {}, now = () => 0) {
  const engine = new FakeEngine();
  const counts = { hit: 0, miss: 0 };
  const h = new TopicHub(engine, { ...DEFAULT_WS_LIMITS, ...limits }, { historyHit: () => counts.hit++, historyMiss: () => counts.miss++ }, now);
  return { engine, h, counts };
}

describe('TopicHistory', () => {
  it('covers a contiguous range, drops the oldest past capacity, restarts on a gap', () => {
    const h = new TopicHistory(10, 3, () => {});
    for (const seq of [11, 12, 13, 14]) h.append(updateMessage('t', seq, seq, 0));
    expect(h.after(11)!.map((m) => m.seq)).toEqual([12, 13, 14]);
    expect(h.after(10)).toBeUndefined();
    expect(h.after(14)).toEqual([]);
    expect(h.after(15)).toBeUndefined();
    h.append(updateMessage('t', 20, 20, 0));
    expect(h.after(19)!.map((m) => m.seq)).toEqual([20]);
    expect(h.after(14)).toBeUndefined();
  });

  it('stays contiguous over many evictions (its slots are compacted, not shifted)', () => {
    const h = new TopicHistory(0, 5, () => {});
    for (let seq = 1; seq <= 5000; seq++) h.append(updateMessage('t', seq, seq, 0));
    expect(h.size).toBe(5);
    expect(h.after(4995)!.map((m) => m.seq)).toEqual([4996, 4997, 4998, 4999, 5000]);
    expect(h.after(4994)).toBeUndefined();
  });

  it('counts every cached encoding, also those made after the append, until the update leaves', () => {
    let total = 0;
    const h = new TopicHistory(0, 2, (delta) => (total += delta));
    const first = updateMessage('t', 1, { v: 'x'.repeat(100) }, 0);
    h.append(first);
    const json = first.size('json');
    expect(h.bytes).toBe(json);
    // The first msgpack subscriber's flush encodes it later: the history's memory grows.
    const packed = first.size('msgpack');
    expect(h.bytes).toBe(json + packed);
    expect(total).toBe(h.bytes);
    h.append(updateMessage('t', 2, 2, 0));
    h.append(updateMessage('t', 3, 3, 0));
    // Evicted: no longer counted, and a late encoding of it (a slow client's queue) does not count.
    expect(h.after(1)!.map((m) => m.seq)).toEqual([2, 3]);
    const evicted = h.after(1)!;
    expect(h.bytes).toBe(evicted[0].size('json') + evicted[1].size('json'));
    evicted[0].size('msgpack');
    h.reset(3);
    evicted[1].size('msgpack');
    expect(h.bytes).toBe(0);
    expect(total).toBe(0);
  });
});

describe('TopicHub', () => {
  it('snapshot, then only updates above it; interest follows subscriptions', () => {
    const { engine, h } = hub();
    engine.commit('stock/A', 'stock/A');
    expect(engine.interest!('stock/A')).toBe(false);
    const sink = new Sink();
    expect(h.subscribe(sink, 'stock/A').map((m) => m.body)).toEqual([{ op: 'snapshot', topic: 'stock/A', seq: 2, epoch: 'E1', data: { v: 2 } }]);
    expect(engine.interest!('stock/A')).toBe(true);
    engine.commit('stock/A', 'stock/B');
    engine.commit('stock/A');
    expect(sink.seqs()).toEqual(['update:3', 'update:4']);
    expect(sink.flushes).toBe(2);
    expect(h.subscribe(new Sink(), 'alerts/stock')[0].body).toMatchObject({ seq: 0, data: null });
  });

  it('replays from history, also while the engine outputs are still on their way; else a snapshot for old seqs and other epochs', () => {
    const { engine, h, counts } = hub({ historyPerTopic: 3 });
    const first = new Sink();
    h.subscribe(first, 'stock/A');
    for (let i = 0; i < 5; i++) engine.commit('stock/A');
    expect(h.subscribe(new Sink(), 'stock/A', 3).map((m) => m.seq)).toEqual([4, 5]);
    expect(h.subscribe(new Sink(), 'stock/A', 1)[0].body.op).toBe('snapshot');
    expect(h.subscribe(new Sink(), 'stock/A', 4, 'E0')[0].body.op).toBe('snapshot');
    expect(counts).toEqual({ hit: 1, miss: 2 });
    // An engine on another thread: seqs 6 and 7 are committed, and readable here, before their
    // outputs reach the hub. A resume then still gets updates, the held ones as they arrive.
    const deliver = engine.listener!;
    const inFlight: Output[][] = [];
    engine.listener = (outputs) => void inFlight.push(outputs);
    engine.commit('stock/A');
    engine.commit('stock/A');
    const resumed = new Sink();
    expect(h.subscribe(resumed, 'stock/A', 5)).toEqual([]);
    expect(counts).toEqual({ hit: 2, miss: 2 });
    for (const outputs of inFlight) deliver(outputs);
    expect(resumed.seqs()).toEqual(['update:6', 'update:7']);
    // Updates the engine never rendered for us arrive as its snapshot, never as a silent jump.
    engine.seqs.set('stock/A', 9);
    deliver([{ topic: 'stock/A', seq: 9, data: { v: 9 }, ts: 1, snapshot: true }]);
    expect(resumed.seqs()).toEqual(['update:6', 'update:7', 'snapshot:9']);
  });

  it('answers a replay larger than the subscriber may still queue with a snapshot', () => {
    const { engine, h, counts } = hub({ historyPerTopic: 10 });
    h.subscribe(new Sink(), 'stock/A');
    for (let i = 0; i < 5; i++) engine.commit('stock/A');
    expect(h.subscribe(new Sink(), 'stock/A', 1, undefined, 3)).toMatchObject([{ body: { op: 'snapshot', seq: 5 } }]);
    expect(h.subscribe(new Sink(), 'stock/A', 1, undefined, 5).map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    expect(counts).toEqual({ hit: 1, miss: 1 });
  });

  it('keeps an idle topic for the grace period, then forgets it', () => {
    let now = 0;
    const { engine, h } = hub({ historyGraceMs: 1000 }, () => now);
    const sink = new Sink();
    h.subscribe(sink, 'stock/A');
    engine.commit('stock/A');
    h.unsubscribe(sink, 'stock/A');
    // Nobody subscribes, but the history still follows the topic for resuming clients.
    engine.commit('stock/A');
    now = 500;
    h.sweep();
    const back = new Sink();
    expect(h.subscribe(back, 'stock/A', 1).map((m) => m.seq)).toEqual([2]);
    h.unsubscribe(back, 'stock/A');
    now = 1499;
    h.sweep();
    expect(engine.interest!('stock/A')).toBe(true);
    now = 1500;
    h.sweep();
    expect(engine.interest!('stock/A')).toBe(false);
    expect(h.historyBytes).toBe(0);
    h.dispose();
  });

  it('sheds history past the global byte bound, idle topics first', () => {
    // Every update below encodes to the same JSON size while seqs stay single-digit.
    const unit = updateMessage('stock/busy', 5, { v: 5 }, 1).size('json');
    const { engine, h } = hub({ historyBytes: 10 * unit });
    const busy = new Sink();
    const idle = new Sink();
    h.subscribe(busy, 'stock/busy');
    h.subscribe(idle, 'stock/idle');
    for (let i = 0; i < 4; i++) engine.commit('stock/busy', 'stock/idle');
    h.unsubscribe(idle, 'stock/idle');
    for (let i = 0; i < 2; i++) engine.commit('stock/busy');
    expect(h.historyBytes).toBe(10 * unit);
    engine.commit('stock/busy');
    expect(engine.interest!('stock/idle')).toBe(false);
    expect(h.historyBytes).toBe(7 * unit);
    expect(h.subscribe(new Sink(), 'stock/busy', 1).map((m) => m.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    for (let i = 0; i < 4; i++) {
      engine.commit('stock/busy');
      expect(h.historyBytes).toBeLessThanOrEqual(10 * unit);
    }
    expect(busy.got.at(-1)!.seq).toBe(11);
  });

  it('counts msgpack encodings made by subscribers against the bound, and forgets them with the topic', () => {
    let now = 0;
    const { engine, h } = hub({ historyGraceMs: 1000 }, () => now);
    // A msgpack subscriber encodes what it is given when flushed, as WsConnection does.
    const packer = new (class extends Sink {
      override flush() {
        for (const m of this.got.splice(0)) m.encode('msgpack');
      }
    })();
    h.subscribe(packer, 'alerts/stock');
    engine.commit('alerts/stock');
    const resumer = new Sink();
    const m = h.subscribe(resumer, 'alerts/stock', 0)[0];
    expect(h.historyBytes).toBe(m.size('json') + m.size('msgpack'));
    h.unsubscribe(packer, 'alerts/stock');
    h.unsubscribe(resumer, 'alerts/stock');
    now = 2000;
    h.sweep();
    expect(h.historyBytes).toBe(0);
  });

  it('event topics keep eventHistoryPerTopic updates, state topics historyPerTopic', () => {
    const { engine, h } = hub({ historyPerTopic: 3, eventHistoryPerTopic: 50 });
    h.subscribe(new Sink(), 'alerts/stock');
    h.subscribe(new Sink(), 'stock/A');
    for (let i = 0; i < 60; i++) engine.commit('alerts/stock', 'stock/A');
    expect(h.subscribe(new Sink(), 'alerts/stock', 10)).toHaveLength(50);
    expect(h.subscribe(new Sink(), 'alerts/stock', 9)[0].body.op).toBe('snapshot');
    expect(h.subscribe(new Sink(), 'stock/A', 57)).toHaveLength(3);
    expect(h.subscribe(new Sink(), 'stock/A', 56)[0].body.op).toBe('snapshot');
  });

  it('an event topic gets every message, never a later snapshot, however late an engine thread renders it', () => {
    const { engine, h } = hub();
    engine.commit('request/r1', 'request/r1');
    const agent = new Sink();
    const customer = new Sink();
    expect(h.subscribe(agent, 'request/r1').map((m) => m.body)).toEqual([{ op: 'snapshot', topic: 'request/r1', seq: 2, epoch: 'E1', data: null }]);
    h.subscribe(customer, 'request/r1');
    // Two chat messages committed on the thread that applies them, their outputs still on the way,
    // when the other thread gets to the watch and renders the topic as it stands (seq 4).
    const deliver = engine.listener!;
    const inFlight: Output[][] = [];
    engine.listener = (outputs) => void inFlight.push(outputs);
    engine.commit('request/r1');
    engine.commit('request/r1');
    deliver([{ topic: 'request/r1', seq: 4, data: { status: 'assigned' }, ts: 1, snapshot: true }]);
    for (const outputs of inFlight) deliver(outputs);
    for (const sink of [agent, customer]) expect(sink.seqs()).toEqual(['update:3', 'update:4']);
  });

  it('counts subscriptions against the server-wide budgets and gives each back once, however it ends', () => {
    const ends: string[] = [];
    const guard = { covers: (t: string) => t.startsWith('request/'), mayKeep: () => false, ended: (_s: Sink, t: string) => ends.push(t) };
    const engine = new FakeEngine();
    const h = new TopicHub<Sink>(engine, { ...DEFAULT_WS_LIMITS, maxTotalSubscriptions: 3, maxAnonymousSubscriptions: 1 }, { historyHit() {}, historyMiss() {} }, () => 0, guard);
    const anonymous = Object.assign(new Sink(), { anonymous: true });
    const holder = new Sink();
    expect(h.admit(anonymous)).toBeUndefined();
    h.subscribe(anonymous, 'stock/A');
    expect(h.admit(anonymous)?.name).toBe('anonymous_subscriptions');
    h.subscribe(holder, 'stock/A');
    h.subscribe(holder, 'request/r1');
    expect(h.admit(holder)?.name).toBe('subscriptions');
    expect([h.subscriptionBudget.inUse, h.anonymousSubscriptionBudget.inUse]).toEqual([3, 1]);
    // A repeated sub, an unsub of a topic not held: nothing counted twice.
    h.subscribe(holder, 'stock/A');
    expect(h.unsubscribe(anonymous, 'stock/B')).toBe(false);
    expect(h.subscriptions).toBe(3);
    // Ended by the guard after an update, by unsub, twice by unsub: each given back once.
    engine.commit('request/r1');
    expect(ends).toEqual(['request/r1']);
    expect(h.unsubscribe(anonymous, 'stock/A')).toBe(true);
    expect(h.unsubscribe(anonymous, 'stock/A')).toBe(false);
    h.unsubscribe(holder, 'stock/A');
    expect([h.subscriptionBudget.inUse, h.anonymousSubscriptionBudget.inUse]).toEqual([0, 0]);
    expect([h.subscriptionBudget.refusals, h.anonymousSubscriptionBudget.refusals]).toEqual([1, 1]);
    h.dispose();
  });
});

describe('TopicHub topic bound', () => {
  it('forgets idle topics early when too many are tracked, never subscribed ones', () => {
    const { engine, h } = hub({ maxTopics: 10 });
    const keep = new Sink();
    h.subscribe(keep, 'stock/keep');
    const churn = new Sink();
    for (let i = 0; i < 30; i++) {
      h.subscribe(churn, `stock/t${i}`);
      h.unsubscribe(churn, `stock/t${i}`);
    }
    expect(h.topicCount).toBeLessThanOrEqual(11);
    expect(engine.interest!('stock/keep')).toBe(true);
    expect(engine.interest!('stock/t29')).toBe(true);
    expect(engine.interest!('stock/t0')).toBe(false);
  });

  it('never forgets the topic being subscribed, even when every other one is subscribed too', () => {
    const { engine, h } = hub({ maxTopics: 2 });
    h.subscribe(new Sink(), 'stock/a');
    h.subscribe(new Sink(), 'stock/b');
    const late = new Sink();
    h.subscribe(late, 'stock/c');
    engine.commit('stock/c');
    expect(late.seqs()).toEqual(['update:1']);
    expect(h.topicCount).toBe(3);
  });

  it('forgets the topics idle longest first, not the ones created first', () => {
    let now = 0;
    const { engine, h } = hub({ maxTopics: 4 }, () => now);
    const sinks = ['a', 'b', 'c', 'd'].map((name) => {
      const sink = new Sink();
      h.subscribe(sink, `stock/${name}`);
      return sink;
    });
    // Left in the order d, c, b, a: a has been idle the shortest time.
    for (const [i, name] of ['d', 'c', 'b', 'a'].entries()) {
      now = i;
      h.unsubscribe(sinks['abcd'.indexOf(name)], `stock/${name}`);
    }
    h.subscribe(new Sink(), 'stock/e');
    // Over the bound of 4: down to 90% (3) by dropping d and c, the longest idle.
    expect(['a', 'b', 'c', 'd', 'e'].filter((t) => engine.interest!(`stock/${t}`))).toEqual(['a', 'b', 'e']);
  });
});

describe('WsConnection queue', () => {
  /** A socket whose buffer is always full: nothing is ever sent, everything queues. */
  function stuck() {
    const closes: number[] = [];
    const ws = { cork: (fn: () => void) => fn(), getBufferedAmount: () => Number.MAX_SAFE_INTEGER, send: () => 1, end: (code: number) => closes.push(code) };
    const limits = { ...DEFAULT_WS_LIMITS, maxQueuedMessages: 10 };
    const conn = new WsConnection(ws as unknown as WebSocket<SocketData>, { role: 'supervisor', sub: 's' }, 'json', limits, { sent() {}, conflated() {}, slowClose() {} });
    return { conn, closes };
  }
  const alerts = (from: number, n: number) => Array.from({ length: n }, (_, i) => updateMessage('alerts/stock', from + i, { i }, 0));

  it('a replay from history is not counted against the 4008 bound; live messages behind it are', () => {
    const { conn, closes } = stuck();
    conn.deliverReplay(alerts(1, 50));
    expect(closes).toEqual([]);
    expect(conn.queued).toBe(50);
    for (const m of alerts(51, 10)) conn.push(m);
    conn.flush();
    expect(closes).toEqual([]);
    conn.push(alerts(61, 1)[0]);
    conn.flush();
    expect(closes).toEqual([4008]);
  });

  it('bounds what replays may queue per connection; forgetting a topic gives its budget back', () => {
    const { conn } = stuck();
    const budget = conn.replayBudget;
    expect(budget).toBe(DEFAULT_WS_LIMITS.maxReplayMessages);
    conn.deliverReplay(alerts(1, 50));
    expect(conn.replayBudget).toBe(budget - 50);
    conn.forget('alerts/stock');
    expect(conn.replayBudget).toBe(budget);
  });

  it('a replay of a state topic is not conflated; unsub forgets it', () => {
    const { conn } = stuck();
    conn.deliverReplay([1, 2, 3].map((seq) => updateMessage('stock/A', seq, { seq }, 0)));
    expect(conn.queued).toBe(3);
    conn.push(updateMessage('stock/A', 4, { seq: 4 }, 0));
    conn.push(updateMessage('stock/A', 5, { seq: 5 }, 0));
    // The live updates after the replay conflate into one slot.
    expect(conn.queued).toBe(4);
    conn.forget('stock/A');
    conn.flush();
    expect(conn.queued).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    let t = 0;
    const bucket = new TokenBucket(10, 5, () => t);
    expect(Array.from({ length: 7 }, () => bucket.take())).toEqual([true, true, true, true, true, false, false]);
    t = 100;
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    t = 10_000;
    expect(Array.from({ length: 6 }, () => bucket.take()).filter(Boolean)).toHaveLength(5);
  });
});

describe('checkWsLimits', () => {
  it('refuses limits that would break the 4008 promise (resume with since, nothing lost)', () => {
    expect(() => checkWsLimits(DEFAULT_WS_LIMITS)).not.toThrow();
    expect(() => checkWsLimits({ ...DEFAULT_WS_LIMITS, eventHistoryPerTopic: DEFAULT_WS_LIMITS.maxQueuedMessages - 1 })).toThrow(/eventHistoryPerTopic/);
    expect(() => checkWsLimits({ ...DEFAULT_WS_LIMITS, maxReplayMessages: DEFAULT_WS_LIMITS.eventHistoryPerTopic - 1 })).toThrow(/maxReplayMessages/);
  });
});
