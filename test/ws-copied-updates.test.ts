// A node's copy of a partition (engine/changelog.ts) applies every changelog entry its reader
// has gathered in one batch, so one release of outputs can hold several updates of the same
// state topic, one per owner batch. A subscriber that keeps up must get each of them, as it
// would from the owner: a connection conflates a state topic's update still queued unsent
// (gateway/ws/connection.ts), which is for a client that cannot keep up, not for updates the
// hub queued together itself.

import type { WebSocket } from 'uWebSockets.js';
import { afterAll, afterEach, expect, it } from 'vitest';
import { defaultProcessors, openEngine, type Engine, type PartitionChange, type Replicator } from '../engine/mod.ts';
import { WsConnection, type SocketData } from '../gateway/ws/connection.ts';
import { DEFAULT_WS_LIMITS } from '../gateway/ws/limits.ts';
import { TopicHub } from '../gateway/ws/topic-hub.ts';
import { tempDirs } from './fixtures/omni-process.ts';
import { locations, PARTITIONS, SKU_A } from './fixtures/saga-scenarios.ts';

const dirs = tempDirs('omni-copied-updates-test-');
afterAll(() => dirs.cleanup());
const open: Engine[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function start(): Promise<Engine> {
  const e = await openEngine({ path: dirs.make(), processors: defaultProcessors({}), partitions: PARTITIONS, autoTimers: false });
  open.push(e);
  return e;
}

/** Each partition's changelog in memory; `feed` hands a copy everything new of a partition in one call. */
class MemoryChangelog implements Replicator {
  readonly logs: PartitionChange[][] = Array.from({ length: PARTITIONS }, () => []);
  async replicate(changes: PartitionChange[]): Promise<number[]> {
    return changes.map((c) => this.logs[c.partition].push(structuredClone(c)));
  }
  async feed(copy: Engine): Promise<void> {
    for (const [p, log] of this.logs.entries()) {
      const from = copy.changelogPosition(p);
      if (log.length > from) await copy.applyChanges(p, log.slice(from).map((change, i) => ({ seq: from + i + 1, change })));
    }
  }
}

/** A WebSocket client that reads everything at once: uWS never holds anything back. */
function fastClient(): { conn: WsConnection; seen: () => string[] } {
  const sent: Array<{ op: string; topic?: string; seq?: number }> = [];
  const ws = {
    cork: (fn: () => void) => fn(),
    getBufferedAmount: () => 0,
    send: (data: string) => (sent.push(JSON.parse(data)), 1),
    end: () => undefined,
  };
  const conn = new WsConnection(ws as unknown as WebSocket<SocketData>, { role: 'supervisor', sub: 's' }, 'json', DEFAULT_WS_LIMITS, { sent() {}, conflated() {}, slowClose() {} });
  return { conn, seen: () => sent.filter((m) => m.topic === `stock/${SKU_A}`).map((m) => `${m.op[0]}${m.seq}`) };
}

it("a copy's batch of several owner batches reaches a subscriber as every update, in order", async () => {
  const changelog = new MemoryChangelog();
  const owner = await start();
  owner.setReplicator(changelog);
  const copy = await start();
  copy.setRemote({ isLocal: () => false, send: () => undefined });
  const receipt = (id: string) => ({ id, type: 'stock.received', sku: SKU_A, location: 'S1', qty: 1 });

  await owner.submit([...locations, receipt('r1')]);
  await changelog.feed(copy);
  const hub = new TopicHub(copy, DEFAULT_WS_LIMITS, { historyHit() {}, historyMiss() {} });
  const client = fastClient();
  for (const m of hub.subscribe(client.conn, `stock/${SKU_A}`)) client.conn.deliver(m);

  // Three owner batches, applied by the copy in one.
  for (const id of ['r2', 'r3', 'r4']) await owner.submit([receipt(id)]);
  const releases: string[][] = [];
  copy.onOutput((outputs) => releases.push(outputs.filter((o) => o.topic === `stock/${SKU_A}`).map((o) => `u${o.seq}`)));
  await changelog.feed(copy);
  hub.dispose();

  expect(releases).toEqual([['u2', 'u3', 'u4']]);
  expect(client.seen()).toEqual(['s1', 'u2', 'u3', 'u4']);
});
