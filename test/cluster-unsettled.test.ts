// An append that failed `unavailable` part-way leaves its partition unsettled: nothing new may be
// stored before the failed entry (a late copy of it could land behind it). Two ways out are not
// "new" and must be let through, or a node stays stuck on that partition for as long as it runs:
// the same append sent again whole (a client resending its request with the same ids; the
// entries before the failed one are stored already), and a changelog fence, after which readers
// drop whatever an older epoch stores. The failure is made by a connection whose publishes of
// chosen msgIDs fail, over a real nats-server; everything else goes through.

import { afterEach, describe, expect, it } from 'vitest';
import { ChangelogWriter, connectCluster, EventLog, LogIngest, PartitionOwner, type ClusterConnection, type LogEntry } from '../cluster/mod.ts';
import { defaultProcessors, EventRouter, openEngine } from '../engine/mod.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, stopNatsServers } from './nats-harness.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopNatsServers();
});

const entry = (msgID: string): LogEntry => ({ msgID, data: new TextEncoder().encode(msgID) });

/** A connection whose publishes of the msgIDs `failing` picks fail as a timed-out publish does. */
async function flakyConnection(): Promise<{ conn: ClusterConnection; fail: (pick: (msgID: string) => boolean) => void }> {
  const server = await startNatsServer();
  const real = await connectCluster({ servers: [server.url], name: 'cluster-unsettled.test' });
  cleanups.push(() => real.close());
  let failing = (_msgID: string) => false;
  const js = Object.create(real.js) as ClusterConnection['js'];
  js.publish = (subject, data, opts) => (failing(opts?.msgID ?? '') ? Promise.reject(new Error('timeout')) : real.js.publish(subject, data, opts));
  const conn = Object.create(real, { js: { value: js } }) as ClusterConnection;
  return { conn, fail: (pick) => (failing = pick) };
}

describe('an unsettled partition', () => {
  it('takes the failed append sent again whole, and refuses anything new before its failed entry', async () => {
    const { conn, fail } = await flakyConnection();
    const log = await EventLog.open(conn, { partitions: 4, retryForMs: 300 });
    fail((id) => id === 'b');
    await expect(log.append(1, ['a', 'b', 'c'].map(entry))).rejects.toMatchObject({ code: 'unavailable', stored: [1] });
    await expect(log.append(1, [entry('d')])).rejects.toMatchObject({ code: 'unsettled' });
    // 'c' was never stored: sent before 'b' it would be new.
    await expect(log.append(1, ['a', 'c', 'b'].map(entry))).rejects.toMatchObject({ code: 'unsettled' });
    fail(() => false);
    const duplicates: number[] = [];
    expect(await log.append(1, ['a', 'b', 'c'].map(entry), { onDuplicate: (k) => duplicates.push(k) })).toEqual([1, 2, 3]);
    expect(duplicates).toEqual([0]);
    expect(await log.append(1, [entry('d')])).toEqual([4]);
  });

  it('takes a changelog fence before the failed change of an older epoch', async () => {
    const { conn, fail } = await flakyConnection();
    const writer = new ChangelogWriter(await EventLog.open(conn, { partitions: 4, kind: 'changes', retryForMs: 300 }));
    expect(await writer.fence(2, 5)).toBe(1);
    fail((id) => id === '2/5/batch-1');
    await expect(writer.append(2, 5, 'batch-1', { n: 1 })).rejects.toMatchObject({ code: 'unavailable' });
    // Within the epoch the rule holds: the next change must wait for the failed one.
    await expect(writer.append(2, 5, 'batch-2', { n: 2 })).rejects.toMatchObject({ code: 'unsettled' });
    // The partition taken over again (a new epoch): its fence goes first, and changes after it.
    expect(await writer.fence(2, 6)).toBe(2);
    expect(await writer.append(2, 6, 'batch-1', { n: 1 })).toBe(3);
  });

  it('does not hold up a node\'s other requests: its ingest sends the failed entries first, stored once', async () => {
    const { conn, fail } = await flakyConnection();
    const dir = mkdtempSync(join(tmpdir(), 'omni-unsettled-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const engine = await openEngine({ path: dir, processors: defaultProcessors({}), partitions: 1, autoTimers: false });
    cleanups.push(() => engine.close());
    const log = await EventLog.open(conn, { partitions: 1, retryForMs: 300 });
    const owner = new PartitionOwner(conn, log, engine, { partition: 0 });
    cleanups.push(() => owner.stop());
    const ingest = new LogIngest(conn, log, new EventRouter(defaultProcessors({}), 1), { nodeId: 'n' });
    cleanups.push(() => ingest.close());
    await ingest.submit([{ id: 'l1', type: 'location.upserted', location: 'S1', kind: 'store', lat: 50, lon: 10 }]);
    const receipt = (id: string) => ({ id, type: 'stock.received', sku: 'A', location: 'S1', qty: 1 });
    // One client's request fails part-way: its second receipt is not known to be stored.
    fail((id) => id.startsWith('e:r2#'));
    await expect(ingest.submit([receipt('r1'), receipt('r2')])).rejects.toMatchObject({ code: 'unavailable' });
    fail(() => false);
    // Another client's request on the same partition goes through, after the failed entries.
    expect(await ingest.submit([receipt('r3')])).toMatchObject([{ id: 'r3', ok: true }]);
    // The first client resends its request whole: answered as retries, applied once.
    expect(await ingest.submit([receipt('r1'), receipt('r2')])).toMatchObject([{ id: 'r1', ok: true, duplicate: true }, { id: 'r2', ok: true, duplicate: true }]);
    expect(engine.snapshot('stock/A')?.data).toMatchObject({ locations: { S1: { onHand: 3 } } });
  });
});
