// The event log over JetStream (cluster/) against real nats-server processes: appends come back
// in order with their stream sequences and are stored once per msgID; a partition is read from a
// committed sequence, its own subject only; and nothing acknowledged is lost or read twice when
// the single server is killed -9 and restarted, or when a cluster of three loses its stream
// leader (which, restarted under its name and store, rejoins as a replica); with two of three
// servers down an append fails `unavailable`, and appended again later it is stored once. Waits
// are on conditions (a record read, an append acknowledged); the time limits are bounds far above
// what the steps take.

import { afterEach, describe, expect, it } from 'vitest';
import {
  AppendError,
  ClusterError,
  connectCluster,
  EventLog,
  PartitionReader,
  partitionSubject,
  STREAM_NAME,
  type ClusterConnection,
  type ConnectionStatus,
  type LogEntry,
  type LogRecord,
} from '../cluster/mod.ts';
import { startNatsCluster, startNatsServer, stopNatsServers } from './nats-harness.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const entry = (msgID: string): LogEntry => ({ msgID, data: encoder.encode(msgID) });
const text = (records: LogRecord[]) => records.map((r) => decoder.decode(r.data));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  // Readers and connections first (they would retry against dead servers), then the servers.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopNatsServers();
});

async function connectTo(servers: string[], statuses: ConnectionStatus[] = []): Promise<ClusterConnection> {
  const conn = await connectCluster({ servers, name: 'cluster-event-log.test', onStatus: (s) => statuses.push(s) });
  cleanups.push(() => conn.close());
  return conn;
}

/** A reader that keeps what it reads and lets a test wait until it has read something. */
function startReader(conn: ClusterConnection, log: EventLog, partition: number, after: number, opts: { stallMs?: number } = {}) {
  const records: LogRecord[] = [];
  const recreated: string[] = [];
  let changed = () => {};
  const reader = new PartitionReader(conn, log, {
    partition,
    after,
    onBatch: (batch) => {
      records.push(...batch);
      changed();
    },
    onRecreate: (reason) => recreated.push(reason),
    ...opts,
  });
  cleanups.push(() => reader.stop());
  const until = (done: () => boolean, what: string, boundMs = 45_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reader of partition ${partition}: ${what} not reached in ${boundMs} ms; read ${records.length}`)), boundMs);
      changed = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      };
      changed();
    });
  return { reader, records, recreated, until };
}

/**
 * Appends batches of three to one partition, one after the other, until stopped; an append that
 * fails `unavailable` is appended again, same msgIDs, from its first unstored entry, as the
 * contract asks. Keeps each acknowledged sequence and the time each append took.
 */
function startProducer(log: EventLog, partition: number, prefix: string) {
  const acked: Array<{ msgID: string; seq: number; at: number }> = [];
  const appends: Array<{ start: number; end: number }> = [];
  const unavailable: string[] = [];
  let stopped = false;
  let changed = () => {};
  const done = (async () => {
    let i = 0;
    while (!stopped) {
      let batch = [entry(`${prefix}-${++i}`), entry(`${prefix}-${++i}`), entry(`${prefix}-${++i}`)];
      const start = Date.now();
      while (batch.length > 0) {
        try {
          const seqs = await log.append(partition, batch);
          seqs.forEach((seq, k) => acked.push({ msgID: batch[k].msgID, seq, at: Date.now() }));
          batch = [];
        } catch (e) {
          if (!(e instanceof AppendError) || e.code !== 'unavailable') throw e;
          unavailable.push(e.message);
          e.stored.forEach((seq, k) => acked.push({ msgID: batch[k].msgID, seq, at: Date.now() }));
          batch = batch.slice(e.stored.length);
        }
      }
      appends.push({ start, end: Date.now() });
      changed();
    }
  })();
  const until = (count: number, boundMs = 45_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`producer: ${count} acknowledged not reached in ${boundMs} ms; have ${acked.length}`)), boundMs);
      changed = () => {
        if (acked.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      };
      changed();
      void done.catch((e: unknown) => reject(e as Error));
    });
  const stop = async () => {
    stopped = true;
    await done;
  };
  cleanups.push(() => stop());
  return { acked, appends, unavailable, until, stop };
}

/** The stream's message count, asked until a leader answers (right after a failover it may not yet). */
async function storedCount(conn: ClusterConnection): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await conn.jsm.streams.info(STREAM_NAME)).state.messages;
    } catch (e) {
      if (attempt >= 40) throw e;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The server leading a consumer, once one does (a fresh R3 consumer elects its leader after it is added). */
async function leaderOf(conn: ClusterConnection, consumer: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const leader = (await conn.jsm.consumers.info(STREAM_NAME, consumer)).cluster?.leader;
    if (leader) return leader;
    if (attempt >= 40) throw new Error(`consumer ${consumer} has no leader after ${attempt} asks`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until `server` is a current replica (or the leader) of the stream again. */
async function untilCurrent(conn: ClusterConnection, server: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cluster = await conn.jsm.streams.info(STREAM_NAME).then((info) => info.cluster, () => undefined);
    if (cluster?.leader === server || cluster?.replicas?.some((r) => r.name === server && r.current)) return;
    if (attempt >= 80) throw new Error(`${server} is not a current replica of ${STREAM_NAME} after ${attempt} asks: ${JSON.stringify(cluster)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('event log over JetStream, one server', () => {
  it('appends in order with their sequences, a repeated msgID answers the original sequence and is stored once', async () => {
    const server = await startNatsServer();
    const conn = await connectTo([server.url]);
    const log = await EventLog.open(conn, { partitions: 8 });

    expect(await log.append(2, ['a-1', 'a-2', 'a-3', 'a-4', 'a-5'].map(entry))).toEqual([1, 2, 3, 4, 5]);
    expect(await log.append(2, [entry('a-3')])).toEqual([3]);
    // A retry of a whole append whose acknowledgement was lost, with one new entry at its end.
    expect(await log.append(2, ['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6'].map(entry))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await storedCount(conn)).toBe(6);

    const { records, until } = startReader(conn, log, 2, 0);
    await until(() => records.length >= 6, 'six records');
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(text(records)).toEqual(['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6']);

    // Bad input is refused with a code, before anything is sent.
    await expect(log.append(8, [entry('x')])).rejects.toMatchObject({ code: 'invalid' });
    await expect(log.append(1, [{ msgID: '', data: new Uint8Array(1) }])).rejects.toBeInstanceOf(ClusterError);
    await expect(log.append(1, [{ msgID: 'json', data: '{"no":"bytes"}' as unknown as Uint8Array }])).rejects.toMatchObject({ code: 'invalid' });
    expect(() => new PartitionReader(conn, log, { partition: 1, after: -1, onBatch: () => {} })).toThrow(expect.objectContaining({ code: 'invalid' }));
    // A stream made for 1 replica is not taken for one of 3.
    await expect(EventLog.open(conn, { partitions: 8, replicas: 3 })).rejects.toMatchObject({ code: 'stream_mismatch' });
  });

  it('reads a partition from a committed sequence: exactly its later records, none of another partition', async () => {
    const server = await startNatsServer();
    const conn = await connectTo([server.url]);
    const log = await EventLog.open(conn, { partitions: 8 });

    const seqsOf1: number[] = [];
    for (let i = 1; i <= 10; i++) {
      seqsOf1.push(...(await log.append(1, [entry(`one-${i}`)])));
      await log.append(4, [entry(`four-${i}`)]);
    }
    const committed = seqsOf1[3];
    const first = startReader(conn, log, 1, committed);
    await first.until(() => first.records.length >= 6, 'the six records after the committed one');
    // One more on each partition: the reader gets its own, and once it has, nothing else came.
    await log.append(4, [entry('four-11')]);
    const [eleventh] = await log.append(1, [entry('one-11')]);
    await first.until(() => first.records.some((r) => r.seq === eleventh), 'one-11');
    expect(first.records.map((r) => r.seq)).toEqual([...seqsOf1.slice(4), eleventh]);
    expect(text(first.records)).toEqual(['one-5', 'one-6', 'one-7', 'one-8', 'one-9', 'one-10', 'one-11']);

    // A new owner of the partition resumes from what the first one read (its durable consumer is
    // replaced, starting after that sequence), and reads only what came after.
    await first.reader.stop();
    const second = startReader(conn, log, 1, first.reader.lastSeq);
    const [twelfth] = await log.append(1, [entry('one-12')]);
    await second.until(() => second.records.length >= 1, 'one-12');
    expect(second.records.map((r) => r.seq)).toEqual([twelfth]);
  });

  it('gives up starting with no_jetstream when no server answers within the bound', async () => {
    const server = await startNatsServer();
    await server.kill('SIGKILL');
    const started = Date.now();
    await expect(connectCluster({ servers: [server.url], startupTimeoutMs: 1_000 })).rejects.toMatchObject({ code: 'no_jetstream' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('re-creates a consumer that delivers nothing while its partition has later records', async () => {
    const server = await startNatsServer();
    const conn = await connectTo([server.url]);
    const log = await EventLog.open(conn, { partitions: 8 });
    const [first] = await log.append(2, [entry('s-1')]);
    const { records, recreated, until } = startReader(conn, log, 2, 0, { stallMs: 1_000 });
    await until(() => records.length === 1, 's-1');
    // Point the server-side consumer at another subject behind the reader's back: its pulls now
    // come back empty while partition 2 grows, as a stuck consumer's would.
    await conn.jsm.consumers.update(STREAM_NAME, 'omni-p2', { filter_subject: partitionSubject(7) });
    const [second] = await log.append(2, [entry('s-2')]);
    await until(() => records.length === 2, 's-2 after the watchdog');
    expect(records.map((r) => r.seq)).toEqual([first, second]);
    expect(recreated).toEqual(['start', expect.stringMatching(/^stalled/)]);
  });

  it('loses nothing acknowledged and reads nothing twice when the server is killed -9 mid-append and restarted', async () => {
    const server = await startNatsServer();
    const statuses: ConnectionStatus[] = [];
    const conn = await connectTo([server.url], statuses);
    const log = await EventLog.open(conn, { partitions: 8, retryForMs: 30_000 });
    const { records, recreated, until } = startReader(conn, log, 3, 0);
    const producer = startProducer(log, 3, 'c');

    await producer.until(30);
    await server.kill('SIGKILL');
    const killedAt = Date.now();
    const ackedAtKill = producer.acked.length;
    // While the server is down, an append with a short bound fails `unavailable`, never silently.
    const probeStart = Date.now();
    await expect(log.append(5, [entry('c5-1')], { retryForMs: 1_000 })).rejects.toMatchObject({ code: 'unavailable', stored: [] });
    expect(Date.now() - probeStart).toBeGreaterThanOrEqual(900);
    // ... and the next append on that partition must retry it first.
    await expect(log.append(5, [entry('c5-2')])).rejects.toMatchObject({ code: 'unsettled' });

    await server.restart();
    const restartedAt = Date.now();
    await producer.until(ackedAtKill + 30);
    await producer.stop();
    // The unsettled entry, appended again after the restart, is stored once.
    const [seq5] = await log.append(5, [entry('c5-1')]);
    expect(await log.append(5, [entry('c5-1'), entry('c5-2')])).toEqual([seq5, seq5 + 1]);

    const acked = producer.acked;
    await until(() => records.length >= acked.length && records[records.length - 1].seq >= acked[acked.length - 1].seq, 'every acknowledged record');
    // Exactly the acknowledged sequences, in order, each once, with the entries in the order appended.
    expect(records.map((r) => r.seq)).toEqual(acked.map((a) => a.seq));
    expect(text(records)).toEqual(acked.map((_, i) => `c-${i + 1}`));
    expect(await storedCount(conn)).toBe(acked.length + 2);
    expect(statuses.map((s) => s.type)).toEqual(expect.arrayContaining(['disconnect', 'reconnect']));

    const firstAfter = acked[ackedAtKill];
    console.info(
      `single server: killed after ${ackedAtKill} acknowledged; down ${restartedAt - killedAt} ms; first append acknowledged ${firstAfter.at - restartedAt} ms after the restart; ` +
        `${producer.unavailable.length} appends failed unavailable; reader re-created its consumer: ${JSON.stringify(recreated.slice(1))}`,
    );
  });
});

describe('event log over JetStream, three servers', () => {
  it('keeps appending when the stream leader is killed -9, every acknowledged append is read once, and the server rejoins when restarted', async () => {
    const cluster = await startNatsCluster(3);
    const statuses: ConnectionStatus[] = [];
    const conn = await connectTo(cluster.urls, statuses);
    const log = await EventLog.open(conn, { partitions: 8, replicas: 3, retryForMs: 30_000 });
    const { records, recreated, until } = startReader(conn, log, 6, 0);
    const producer = startProducer(log, 6, 'r3');

    await producer.until(30);
    const leader = (await conn.jsm.streams.info(STREAM_NAME)).cluster?.leader;
    expect(leader).toBeDefined();
    const victim = cluster.byName(leader!);
    // The reader's consumer was just added: it may still be electing its own leader.
    const consumerLeader = await leaderOf(conn, 'omni-p6');
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    const ackedAtKill = producer.acked.length;

    await producer.until(ackedAtKill + 30);
    await producer.stop();
    const acked = producer.acked;
    await until(() => records.length >= acked.length && records[records.length - 1].seq >= acked[acked.length - 1].seq, 'every acknowledged record');
    const caughtUp = Date.now() - acked[acked.length - 1].at;
    expect(records.map((r) => r.seq)).toEqual(acked.map((a) => a.seq));
    expect(text(records)).toEqual(acked.map((_, i) => `r3-${i + 1}`));
    expect(await storedCount(conn)).toBe(acked.length);
    expect(new Set(acked.map((a) => a.seq)).size).toBe(acked.length);

    // The killed server comes back under its name and store, and catches up as a replica again.
    await victim.restart();
    const rejoinedAt = Date.now();
    await untilCurrent(conn, victim.name);
    const rejoined = Date.now() - rejoinedAt;

    const longest = Math.max(...producer.appends.filter((a) => a.end >= killedAt).map((a) => a.end - a.start));
    const firstAfter = producer.acked.find((a) => a.at >= killedAt && a.seq > producer.acked[ackedAtKill - 1].seq);
    console.info(
      `three servers: killed stream leader ${victim.name} (the reader's consumer leader: ${consumerLeader}) after ${ackedAtKill} acknowledged; first append acknowledged ${firstAfter!.at - killedAt} ms after the kill; ` +
        `longest append across the failover ${longest} ms; ${producer.unavailable.length} failed unavailable; reader re-created its consumer: ${JSON.stringify(recreated.slice(1))}; had read everything ${caughtUp} ms after the last acknowledgement; the restarted server was a current replica again ${rejoined} ms after it listened`,
    );
  });
  it('fails unavailable while two of three servers are down, and the same entries appended again are stored once', async () => {
    const cluster = await startNatsCluster(3);
    const conn = await connectTo(cluster.urls);
    const log = await EventLog.open(conn, { partitions: 8, replicas: 3, retryForMs: 30_000 });
    const [before] = await log.append(0, [entry('q-1')]);
    const leader = cluster.byName((await conn.jsm.streams.info(STREAM_NAME)).cluster!.leader!);
    const other = cluster.servers.find((s) => s !== leader)!;
    await Promise.all([leader.kill('SIGKILL'), other.kill('SIGKILL')]);

    // No quorum: the append cannot be stored; it fails within its bound, and may still land later.
    await expect(log.append(0, [entry('q-2'), entry('q-3')], { retryForMs: 3_000 })).rejects.toMatchObject({ code: 'unavailable', stored: [] });
    await expect(log.append(0, [entry('q-4')])).rejects.toMatchObject({ code: 'unsettled' });

    await Promise.all([leader.restart(), other.restart()]);
    const restartedAt = Date.now();
    const seqs = await log.append(0, [entry('q-2'), entry('q-3'), entry('q-4')]);
    const storedAfter = Date.now() - restartedAt;
    expect(seqs.length).toBe(3);
    expect(seqs[0]).toBeGreaterThan(before);
    expect(seqs[1]).toBe(seqs[0] + 1);
    expect(seqs[2]).toBe(seqs[1] + 1);
    expect(await storedCount(conn)).toBe(4);
    const { records, until } = startReader(conn, log, 0, 0);
    await until(() => records.length >= 4, 'the four records');
    expect(text(records)).toEqual(['q-1', 'q-2', 'q-3', 'q-4']);
    console.info(`three servers, two killed: the retried append was stored ${storedAfter} ms after they listened again`);
  });
});
