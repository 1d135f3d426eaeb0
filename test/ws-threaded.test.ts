// Push with two engine threads sharing the partitions (ThreadedEngine): each renders only the
// topics the push layer names through watch(), and that message reaches it while batches go on;
// the topics' SKUs fall on partitions of both threads, and every connection's subscribers take
// updates from both.
// Many connections subscribe, one topic after another, to overlapping stock topics while several
// posters keep batches in flight, so first subscriptions to a topic land before, while and after
// batches touching it are applied. Each subscriber must see its snapshot, then every update in
// seq order without a gap it is not told of (a newer snapshot), ending at the topic's final state.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openThreadedEngine, type ThreadedEngine } from '../engine/mod.ts';
import { partitionOf } from '../engine/partitions.ts';
import { signToken, startGateway, type Gateway } from '../gateway/mod.ts';
import { prng } from './fixtures/omni-process.ts';
import { TEST_SECRET } from './gateway-harness.ts';
import { loc, post, recv, sold, WsClient, type Msg } from './ws-harness.ts';

const SEED = Number(process.env.OMNI_WS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const INGEST = signToken({ role: 'ingest', sub: 'poster' }, TEST_SECRET);
const STORES = ['S1', 'S2'];

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function threadedServer(): Promise<{ engine: ThreadedEngine; gateway: Gateway; wsUrl: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'omni-ws-threaded-'));
  const engine = await openThreadedEngine({ path: dir, domains: {}, durability: 'none' });
  cleanup.push(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const gateway = await startGateway({ engine, secret: TEST_SECRET, host: '127.0.0.1', port: 0 });
  cleanup.push(() => gateway.close());
  return { engine, gateway, wsUrl: `ws://127.0.0.1:${gateway.port}/v1/ws` };
}

/** What one subscriber got on `topic`: a snapshot, then updates one seq apart (or a newer snapshot), ending at `last`. */
function streamProblem(messages: Msg[], topic: string, last: number, final: unknown): string | undefined {
  const got = messages.filter((m) => m.topic === topic);
  if (got[0]?.op !== 'snapshot') return `first message ${JSON.stringify(got[0])}, not a snapshot`;
  for (let i = 1; i < got.length; i++) {
    // A later snapshot is allowed (it tells of updates that could not be rendered), if it moves on.
    if (got[i].op === 'snapshot' && got[i].seq > got[i - 1].seq) continue;
    if (got[i].op !== 'update') return `a ${got[i].op} at seq ${got[i].seq} after seq ${got[i - 1].seq}`;
    if (got[i].seq !== got[i - 1].seq + 1) return `seq ${got[i - 1].seq} then ${got[i].seq}`;
  }
  const end = got.at(-1)!;
  if (end.seq !== last) return `ends at seq ${end.seq}, the topic is at ${last}`;
  if (JSON.stringify(end.data) !== JSON.stringify(final)) return `ends with ${JSON.stringify(end.data)}, the topic is ${JSON.stringify(final)}`;
  return undefined;
}

describe('push with two engine threads', () => {
  it(`subscribers of overlapping topics, arriving while batches are applied, each get every update after their snapshot and end current (seed ${SEED})`, async () => {
    const rng = prng(SEED);
    const shuffle = <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [items[i], items[j]] = [items[j], items[i]];
      }
      return items;
    };
    const { engine, wsUrl } = await threadedServer();
    const url = `http://127.0.0.1:${new URL(wsUrl).port}`;
    await post(url, INGEST, STORES.map((s) => loc(`loc-${s}`, s)));

    const ROUNDS = 3;
    const SKUS_PER_ROUND = 16;
    const CONNECTIONS = 24;
    const TOPICS_PER_CONNECTION = 6;
    const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => WsClient.open(wsUrl)));
    cleanup.push(() => Promise.all(clients.map((c) => c.close())));
    const subscriptions: Array<{ client: WsClient; topic: string }> = [];
    let posted = 0;

    for (let round = 0; round < ROUNDS; round++) {
      // Topics nobody has watched yet: each first subscription makes the hub start watching.
      const skus = Array.from({ length: SKUS_PER_ROUND }, (_, i) => `R${round}-${i}`);
      const topics = skus.flatMap((sku) => [`stock/${sku}`, `stock/${sku}@${rng.pick(STORES)}`]);
      let subscribing = true;
      // Four posters, each a request after the other's answer: several batches in flight at a time.
      const posters = Array.from({ length: 4 }, async (_, p) => {
        for (let n = 0; subscribing || n < 5; n++) {
          const events = Array.from({ length: rng.int(1, 4) }, (_, k) => {
            const id = `r${round}-p${p}-${n}-${k}`;
            const sku = rng.pick(skus);
            const store = rng.pick(STORES);
            return rng.chance(0.7) ? recv(id, sku, store, rng.int(1, 5)) : sold(id, sku, store, 1);
          });
          await post(url, INGEST, events);
          posted += events.length;
        }
      });
      const plan = shuffle(clients.flatMap((client) => shuffle([...topics]).slice(0, TOPICS_PER_CONNECTION).map((topic) => ({ client, topic }))));
      for (const s of plan) {
        await s.client.sub(s.topic);
        subscriptions.push(s);
      }
      subscribing = false;
      await Promise.all(posters);
      // Every topic of the round changes once more after the last subscription.
      await post(url, INGEST, skus.map((sku, i) => recv(`r${round}-last-${i}`, sku, STORES[i % 2], 1)));
      await post(url, INGEST, skus.map((sku, i) => recv(`r${round}-final-${i}`, sku, STORES[(i + 1) % 2], 1)));
    }

    // Every batch's outputs have reached the push layer once the engine is idle; a pong comes
    // after everything queued for its connection before it.
    await engine.idle();
    await Promise.all(
      clients.map(async (client, i) => {
        const from = client.messages.length;
        client.send({ op: 'ping', id: `done-${i}` });
        await client.next((m) => m.op === 'pong' && m.id === `done-${i}`, from);
      }),
    );
    // Both engine threads applied (and rendered) topics the subscribers watched.
    const threadOf = new Map(engine.layout().workers.flatMap((w) => w.partitions.map((p) => [p, w.worker] as const)));
    const watchedThreads = new Set(subscriptions.map(({ topic }) => threadOf.get(partitionOf(topic.slice('stock/'.length).split('@')[0], engine.layout().partitions))));
    expect(watchedThreads).toEqual(new Set([0, 1]));
    const problems: string[] = [];
    for (const { client, topic } of subscriptions) {
      const problem = streamProblem(client.messages, topic, engine.lastSeq(topic), engine.snapshot(topic)?.data);
      if (problem) problems.push(`${topic}: ${problem}`);
    }
    console.log(`ws threaded seed ${SEED}: ${subscriptions.length} subscriptions on ${CONNECTIONS} connections, ${posted} events posted, ${problems.length} broken streams`);
    expect(problems).toEqual([]);
  });
});
