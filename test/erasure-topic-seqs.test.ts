// A customer's erasure deletes the seq records of the topics that showed it (`$seq/recs/<id>`,
// `$seq/loyalty/<id>`: their keys name the customer), yet keeps what a restarted topic promises,
// over a real WebSocket: a subscriber connected through the erasure sees the topic's seq only
// rise, also once the id comes back as a new customer; one resuming with `since` from before the
// erasure gets a snapshot without the customer, never an old update nor the new customer's
// updates as if they followed what it saw — also after a restart, whose push layer keeps no
// history; and the client SDK, subscribed through it all, ends with the state the server has. An
// event topic never seen before still starts right after its snapshot's seq.

import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type OmniClient } from '../client/mod.ts';
import { post, useWsServers, type Msg, type WsClient, type WsServer } from './ws-harness.ts';

const { server, client } = useWsServers();
let sdk: OmniClient | undefined;
afterEach(() => {
  sdk?.close();
  sdk = undefined;
});

const PHONE = 'phone:+4915177700011';
const EMAIL = 'email:erika@example.com';
const TOPICS = [`recs/${PHONE}`, `loyalty/${PHONE}`];
const NAMED = /4915177700011|erika@example|cust-erika/;

async function send(s: WsServer, events: unknown[]) {
  const answers = await post(s.url, s.token('ingest'), events);
  expect(answers.filter((a) => !a.ok)).toEqual([]);
  await s.engine.idle();
}

let n = 0;
const view = (ts: number) => ({ id: `v${++n}`, type: 'activity.viewed', subject: PHONE, sku: 'A', channel: 'web', ts });
const earn = (points: number) => ({ id: `e${++n}`, type: 'loyalty.earned', subject: PHONE, points });

/** The highest seq `c` was sent on `topic` (snapshot or update). */
const lastSeq = (c: WsClient, topic: string) => Math.max(...c.messages.filter((m) => m.topic === topic && typeof m.seq === 'number').map((m) => m.seq as number));


/** Seqs `c` got on `topic`, in arrival order, rise strictly. */
function rising(c: WsClient, topic: string) {
  const seqs = c.messages.filter((m) => m.topic === topic && m.op === 'update').map((m) => m.seq as number);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `${topic}: ${seqs.join(',')}`).toBeGreaterThan(seqs[i - 1]);
}

async function resume(s: WsServer, since: Record<string, Msg>) {
  const late = await client(s, { token: s.token('admin') });
  const got: Msg[] = [];
  for (const topic of TOPICS) got.push(await late.sub(topic, { since: since[topic].seq, epoch: since[topic].epoch }));
  return got;
}

describe('topic seqs after customer.erased', () => {
  it('the seq records go; subscribers never see a seq go back nor an old update, resumed or live', async () => {
    const s = await server();
    await send(s, [{ id: 'link', type: 'identity.linked', ids: [PHONE, EMAIL], customer: 'cust-erika' }]);
    const live = await client(s, { token: s.token('admin') });
    for (const topic of TOPICS) await live.sub(topic);
    const sdkData = new Map<string, unknown>();
    sdk = connect({ url: s.url, token: s.token('admin'), WebSocket, backoff: { initialMs: 20, maxMs: 100, jitter: 1 } });
    sdk.on('error', () => {});
    for (const topic of TOPICS) {
      sdk.subscribe(topic, { onSnapshot: (data) => void sdkData.set(topic, data), onUpdate: (data) => void sdkData.set(topic, data) });
    }
    for (let i = 0; i < 3; i++) await send(s, [view(1_000 + i), earn(10)]);
    await live.next((m) => m.topic === TOPICS[1] && m.data?.balance === 30);
    // What a client that disconnects now would resume from: the topics' current seqs.
    const before: Record<string, Msg> = {};
    const leaving = await client(s, { token: s.token('admin') });
    for (const topic of TOPICS) {
      before[topic] = await leaving.sub(topic);
      expect(before[topic].seq, topic).toBeGreaterThan(1);
      await live.untilSeq(topic, before[topic].seq);
      expect(s.engine.read(`$seq/${topic}`), topic).toBeDefined();
    }
    const atErasure = live.messages.length;

    await send(s, [{ id: 'erase', type: 'customer.erased', customer: EMAIL }]);
    await s.engine.scrubbed();
    for (const topic of TOPICS) expect(s.engine.read(`$seq/${topic}`), `$seq/${topic}`).toBeUndefined();
    // The live subscriber is told each topic shows nobody now, at a seq above what it had.
    for (const topic of TOPICS) {
      const { msg } = await live.next((m) => m.topic === topic, atErasure);
      expect(msg).toMatchObject({ op: 'snapshot', data: null });
      expect(msg.seq, topic).toBeGreaterThan(before[topic].seq);
    }

    // Resuming from before the erasure: a snapshot without the customer.
    for (const got of await resume(s, before)) {
      expect(got.op, got.topic).toBe('snapshot');
      expect(JSON.stringify(got.data) ?? '').not.toMatch(NAMED);
    }

    // The id comes back, as a new customer: its updates reach the live subscriber above every
    // seq it saw; a resume from before the erasure still gets a snapshot, not these updates.
    const seenBefore = Object.fromEntries(TOPICS.map((t) => [t, lastSeq(live, t)]));
    const comeback = live.messages.length;
    await send(s, [view(9_000), earn(5)]);
    for (const topic of TOPICS) {
      const { msg } = await live.next((m) => m.topic === topic && m.op === 'update', comeback);
      expect(msg.seq, topic).toBeGreaterThan(seenBefore[topic]);
      rising(live, topic);
    }
    expect(live.messages.slice(comeback).find((m) => m.topic === TOPICS[1])?.data).toMatchObject({ balance: 5 });
    for (const got of await resume(s, before)) {
      expect(got.op, got.topic).toBe('snapshot');
      expect(JSON.stringify(got.data)).not.toMatch(/erika@example|cust-erika/);
    }
    // An event topic never seen before counts from 0 as ever: an early subscriber gets its first
    // message right after its snapshot (the client takes a jump on an event topic for lost messages).
    const asker = await client(s, { token: s.token('admin') });
    const requestSnap = await asker.sub('request/q-after');
    await send(s, [
      { id: 'desk', type: 'agent.online', agent: 'a9', skills: { returns: 5 }, capacity: { chat: 2 }, languages: ['de'] },
      { id: 'ask', type: 'service.requested', request: 'q-after', subject: 'device:other', channel: 'chat', topic: 'returns' },
    ]);
    const first = await asker.next((m) => m.topic === 'request/q-after' && m.op === 'update');
    expect(first.msg.seq).toBe(requestSnap.seq + 1);
    // The SDK, subscribed through it all, holds what a fresh snapshot shows.
    const fresh = await client(s, { token: s.token('admin') });
    for (const topic of TOPICS) {
      const snap = await fresh.sub(topic);
      await expect.poll(() => sdkData.get(topic), { timeout: 10_000 }).toEqual(snap.data);
    }
    sdk.close();
    sdk = undefined;

    // A restart: the push layer keeps no history, the seq floor is read back from the store.
    const dir = s.dataDir;
    await s.stop(true);
    const again = await server({}, dir);
    for (const got of await resume(again, before)) {
      expect(got.op, got.topic).toBe('snapshot');
      expect(JSON.stringify(got.data)).not.toMatch(/erika@example|cust-erika/);
    }
    const watcher = await client(again, { token: again.token('admin') });
    const fromSnapshot = await watcher.sub(TOPICS[1]);
    await send(again, [earn(7)]);
    const { msg } = await watcher.next((m) => m.topic === TOPICS[1] && m.op === 'update');
    expect(msg.seq).toBeGreaterThan(Math.max(fromSnapshot.seq, seenBefore[TOPICS[1]]));
    expect(msg.data).toMatchObject({ balance: 12 });
  });
});
