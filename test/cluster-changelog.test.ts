// The changelog (cluster/changelog.ts) against a real nats-server: an owner's changes are read
// back in order by another node's copy; after a new owner's fence, what the old owner still
// appends is dropped by every reader, and a copy resuming from its stored position and epoch
// drops it too; the event log and the changelog of one cluster are separate streams.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChangelogReader, ChangelogWriter, connectCluster, EventLog, type ClusterConnection, type ReadChange } from '../cluster/mod.ts';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopNatsServers();
});

async function connectTo(url: string, name: string): Promise<ClusterConnection> {
  const conn = await connectCluster({ servers: [url], name });
  cleanups.push(() => conn.close());
  return conn;
}

function follow(conn: ClusterConnection, log: EventLog, after = 0, epoch = 0) {
  const read: Array<ReadChange<string>> = [];
  let last = { seq: after, epoch };
  const reader = new ChangelogReader<string>(conn, log, {
    partition: 3,
    after,
    epoch,
    nodeId: 'copy',
    onChanges: (changes, at) => {
      read.push(...changes);
      last = at;
    },
  });
  cleanups.push(() => reader.stop());
  return { reader, read, last: () => last };
}

const until = (what: string, done: () => boolean) => vi.waitFor(() => expect(done(), what).toBe(true), { timeout: 20_000, interval: 20 });

describe('the changelog', () => {
  it('gives another node the owner\'s changes in order, and drops what a fenced-off owner appends later', async () => {
    const server = await startNatsServer();
    const owner = await connectTo(server.url, 'owner');
    const changes = await EventLog.open(owner, { partitions: 8, kind: 'changes' });
    const old = new ChangelogWriter(changes);
    const next = new ChangelogWriter(await EventLog.open(await connectTo(server.url, 'next'), { partitions: 8, kind: 'changes' }));

    await old.fence(3, 1);
    await old.append(3, 1, 'b1', 'old-1');
    await old.append(3, 1, 'b2', 'old-2');
    // The next owner fences epoch 2; the old one, stalled past its lease, still appends after it.
    await next.fence(3, 2);
    await old.append(3, 1, 'b3', 'old-3-late');
    await next.append(3, 2, 'b1', 'next-1');
    // A retry of a stored batch (same id) is stored once.
    await next.append(3, 2, 'b1', 'next-1');

    const copy = follow(await connectTo(server.url, 'copy'), await EventLog.open(owner, { partitions: 8, kind: 'changes' }));
    await until('the copy read next-1', () => copy.read.some((c) => c.change === 'next-1'));
    expect(copy.read.map((c) => [c.epoch, c.change])).toEqual([
      [1, 'old-1'],
      [1, 'old-2'],
      [2, 'next-1'],
    ]);
    expect(copy.reader.highestEpoch).toBe(2);
    const info = await owner.jsm.streams.info(owner.names.changeStream);
    expect(info.state.messages).toBe(6);
    expect(copy.last().seq).toBe(info.state.last_seq);

    // A copy that stored (seq of old-2, epoch 1) resumes there: it drops the late entry too.
    const resumed = follow(await connectTo(server.url, 'copy-2'), changes, copy.read[1].seq, 1);
    await until('the resumed copy read next-1', () => resumed.read.some((c) => c.change === 'next-1'));
    expect(resumed.read.map((c) => c.change)).toEqual(['next-1']);
    // The event log is another stream: nothing of the changelog is in it.
    await EventLog.open(owner, { partitions: 8 });
    expect((await owner.jsm.streams.info(owner.names.eventStream)).state.messages).toBe(0);
  });
});
