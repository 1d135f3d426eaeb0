// Partition leases over JetStream (cluster/leases.ts) against a real nats-server: two keepers,
// each on its own connection, competing for the same eight partitions. Every gain and loss is
// recorded with its time (both keepers run in this process, so on one clock), and the record must
// never show a partition gained by one keeper while the other still holds it. A keeper stopped
// without releasing (a dead node) has its partitions taken only after its leases ran out, plus
// the clock-skew margin, with higher epochs; a release hands them over before they would have
// expired; a server killed -9 for longer than a ttl makes the keepers report their partitions lost
// before the leases expire, and after the restart every partition has one owner again. Waits are
// on conditions (polled every 20 ms) with bounds far above what the steps take.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { unpack } from 'msgpackr';
import { connectCluster, LEASE_STREAM, LeaseKeeper, leaseSubject, type ClusterConnection, type HeldLease, type LeaseKeeperOptions, type LeaseLossReason } from '../cluster/mod.ts';
import { startNatsCluster, startNatsServer, stopNatsServers } from './nats-harness.ts';

const PARTITIONS = 8;
const ALL = Array.from({ length: PARTITIONS }, (_, p) => p);
const TTL_MS = 2_000;
const SKEW_MS = 300;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await stopNatsServers();
});

interface LeaseEvent {
  node: string;
  partition: number;
  at: number;
  kind: 'gained' | 'lost';
  epoch?: number;
  reason?: LeaseLossReason;
}

async function connectTo(url: string | string[], name: string): Promise<ClusterConnection> {
  const conn = await connectCluster({ servers: Array.isArray(url) ? url : [url], name });
  cleanups.push(() => conn.close());
  return conn;
}

async function startKeeper(url: string | string[], nodeId: string, events: LeaseEvent[], opts: Partial<LeaseKeeperOptions> = {}): Promise<LeaseKeeper> {
  const conn = await connectTo(url, nodeId);
  const keeper = await LeaseKeeper.open(conn, {
    nodeId,
    partitions: PARTITIONS,
    ttlMs: TTL_MS,
    maxClockSkewMs: SKEW_MS,
    onGained: (partition, epoch) => events.push({ node: nodeId, partition, at: Date.now(), kind: 'gained', epoch }),
    onLost: (partition, reason) => events.push({ node: nodeId, partition, at: Date.now(), kind: 'lost', reason }),
    ...opts,
  });
  cleanups.push(() => keeper.stop());
  return keeper;
}

async function until(done: () => boolean, what: string, boundMs = 20_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!done()) throw new Error(`${what}: not reached within ${boundMs} ms`);
    },
    { timeout: boundMs, interval: 20 },
  );
}

/** Replays the events: a partition gained while another node holds it is a double ownership. */
function doubleOwnerships(events: LeaseEvent[]): string[] {
  const owner = new Map<number, string>();
  const problems: string[] = [];
  for (const e of events) {
    const current = owner.get(e.partition);
    if (e.kind === 'gained') {
      if (current !== undefined) problems.push(`partition ${e.partition} gained by ${e.node} at ${e.at} while ${current} held it`);
      owner.set(e.partition, e.node);
    } else if (current === e.node) {
      owner.delete(e.partition);
    } else {
      problems.push(`partition ${e.partition} lost by ${e.node}, which did not hold it`);
    }
  }
  return problems;
}

/** Every partition held by exactly one of the keepers. */
function coveredOnce(keepers: LeaseKeeper[]): boolean {
  const held = keepers.flatMap((k) => k.leases().map((l) => l.partition));
  return held.length === PARTITIONS && new Set(held).size === PARTITIONS;
}

/** The lease records as stored: owner and epoch per partition. */
async function storedLeases(conn: ClusterConnection): Promise<Array<{ owner: string; epoch: number }>> {
  return Promise.all(
    ALL.map(async (p) => {
      const m = await conn.jsm.streams.getMessage(LEASE_STREAM, { last_by_subj: leaseSubject(p) });
      const [, , owner, epoch] = unpack(m!.data) as [number, number, string, number, number];
      return { owner, epoch };
    }),
  );
}

describe('partition leases over JetStream, one server', () => {
  it('two keepers competing for eight partitions: each ends with exactly one owner, never two at once', async () => {
    const server = await startNatsServer();
    const events: LeaseEvent[] = [];
    const a = await startKeeper(server.url, 'node-a', events);
    const b = await startKeeper(server.url, 'node-b', events);
    await Promise.all([a.claim(ALL), b.claim(ALL)]);
    await until(() => coveredOnce([a, b]), 'all eight partitions owned');
    // Stable: every lease renewed at least once after all were owned, and still one owner each.
    const coveredAt = Date.now();
    await until(() => [...a.leases(), ...b.leases()].every((l) => l.expiresAt > coveredAt + TTL_MS), 'a renewal of every lease');
    expect(coveredOnce([a, b])).toBe(true);
    expect(doubleOwnerships(events)).toEqual([]);
    expect(events.filter((e) => e.kind === 'lost')).toEqual([]);
    for (const p of ALL) expect(a.owns(p) !== b.owns(p)).toBe(true);

    // The stream agrees with what the keepers hold.
    const observer = await connectTo(server.url, 'observer');
    const stored = await storedLeases(observer);
    for (const lease of [...a.leases().map((l) => ['node-a', l] as const), ...b.leases().map((l) => ['node-b', l] as const)]) {
      expect(stored[lease[1].partition]).toEqual({ owner: lease[0], epoch: lease[1].epoch });
    }
    console.info(`two keepers: node-a holds ${a.leases().length}, node-b ${b.leases().length}; all owned ${coveredAt - events[0].at} ms after the first gain`);

    // Bad input is refused with a code.
    await expect(a.claim([PARTITIONS])).rejects.toMatchObject({ code: 'invalid' });
    await expect(a.release([-1])).rejects.toMatchObject({ code: 'invalid' });
    await expect(LeaseKeeper.open(observer, { nodeId: '', partitions: PARTITIONS })).rejects.toMatchObject({ code: 'invalid' });
    await expect(LeaseKeeper.open(observer, { nodeId: 'x', partitions: PARTITIONS, ttlMs: 1_000, maxClockSkewMs: 600 })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('a keeper that dies (stopped, never released): the other takes its partitions after they expire plus the margin, with higher epochs', async () => {
    const server = await startNatsServer();
    const events: LeaseEvent[] = [];
    const a = await startKeeper(server.url, 'node-a', events, { maxClaimsPerRound: PARTITIONS });
    await a.claim(ALL);
    expect(a.leases().length).toBe(PARTITIONS);
    const b = await startKeeper(server.url, 'node-b', events);
    await b.claim(ALL);
    expect(b.leases()).toEqual([]);

    const lastLeases = new Map<number, HeldLease>(a.leases().map((l) => [l.partition, l]));
    await a.stop();
    const diedAt = Date.now();
    await until(() => b.leases().length === PARTITIONS, 'node-b owns every partition', 15_000);

    const gains = events.filter((e) => e.node === 'node-b' && e.kind === 'gained');
    expect(gains.length).toBe(PARTITIONS);
    for (const gain of gains) {
      const before = lastLeases.get(gain.partition)!;
      expect(gain.at).toBeGreaterThan(before.expiresAt + SKEW_MS);
      expect(gain.epoch).toBe(before.epoch + 1);
    }
    expect(doubleOwnerships(events)).toEqual([]);
    const takeover = gains.map((g) => g.at - diedAt);
    console.info(`death: node-b took over ${Math.min(...takeover)}–${Math.max(...takeover)} ms after node-a stopped (ttl ${TTL_MS} ms, skew margin ${SKEW_MS} ms)`);
  });

  it('a graceful release hands the partitions over at once, long before the leases would have expired', async () => {
    const server = await startNatsServer();
    const events: LeaseEvent[] = [];
    const a = await startKeeper(server.url, 'node-a', events, { maxClaimsPerRound: PARTITIONS, ttlMs: 3_000 });
    await a.claim(ALL);
    // node-b's own rounds come every 10 s: only its watch of lease writes can take them sooner.
    const b = await startKeeper(server.url, 'node-b', events, { maxClaimsPerRound: PARTITIONS, ttlMs: 30_000 });
    await b.claim(ALL);
    expect(b.leases()).toEqual([]);
    const lastLeases = new Map<number, HeldLease>(a.leases().map((l) => [l.partition, l]));
    const releasedAt = Date.now();
    await a.release();
    expect(a.leases()).toEqual([]);
    expect(events.filter((e) => e.node === 'node-a' && e.kind === 'lost').map((e) => e.reason)).toEqual(Array(PARTITIONS).fill('released'));
    await until(() => b.leases().length === PARTITIONS, 'node-b owns every partition', 5_000);

    const gains = events.filter((e) => e.node === 'node-b' && e.kind === 'gained');
    for (const gain of gains) {
      const before = lastLeases.get(gain.partition)!;
      expect(gain.at).toBeLessThan(before.expiresAt);
      expect(gain.at - releasedAt).toBeLessThan(2_000);
      expect(gain.epoch).toBe(before.epoch + 1);
    }
    expect(doubleOwnerships(events)).toEqual([]);
    console.info(`release: node-b owned every partition ${Math.max(...gains.map((g) => g.at)) - releasedAt} ms after node-a released (node-a's ttl 3000 ms, node-b's rounds 10 s apart)`);
  });

  it('the server killed -9 and restarted: the keepers report losses before their leases expire, and own every partition once again after', async () => {
    const server = await startNatsServer();
    const events: LeaseEvent[] = [];
    const errors: unknown[] = [];
    const a = await startKeeper(server.url, 'node-a', events, { onError: (e) => errors.push(e) });
    const b = await startKeeper(server.url, 'node-b', events, { onError: (e) => errors.push(e) });
    await Promise.all([a.claim(ALL), b.claim(ALL)]);
    await until(() => coveredOnce([a, b]), 'all eight partitions owned');

    await server.kill('SIGKILL');
    const killedAt = Date.now();
    const atKill = new Map<string, HeldLease>([...a.leases().map((l) => [`node-a/${l.partition}`, l] as const), ...b.leases().map((l) => [`node-b/${l.partition}`, l] as const)]);
    // Down longer than a ttl: no renewal can land, so every lease must be reported lost.
    await until(() => a.leases().length + b.leases().length === 0, 'every lease reported lost', 10_000);
    const lostAll = Date.now() - killedAt;
    for (const e of events.filter((e) => e.kind === 'lost')) {
      const lease = atKill.get(`${e.node}/${e.partition}`)!;
      expect(e.reason).toBe('expiring');
      expect(e.at).toBeLessThan(lease.expiresAt);
    }

    await server.restart();
    const restartedAt = Date.now();
    await until(() => coveredOnce([a, b]), 'all eight partitions owned after the restart', 20_000);
    const ownedAgain = Date.now() - restartedAt;
    const coveredAt = Date.now();
    await until(() => [...a.leases(), ...b.leases()].every((l) => l.expiresAt > coveredAt + TTL_MS), 'a renewal of every lease after the restart');
    expect(coveredOnce([a, b])).toBe(true);
    expect(doubleOwnerships(events)).toEqual([]);
    for (const gain of events.filter((e) => e.kind === 'gained' && e.at >= restartedAt)) {
      const old = atKill.get(`node-a/${gain.partition}`) ?? atKill.get(`node-b/${gain.partition}`)!;
      expect(gain.epoch).toBeGreaterThan(old.epoch);
    }
    expect(errors.length).toBeGreaterThan(0);
    console.info(`server killed: every lease reported lost ${lostAll} ms after the kill (ttl ${TTL_MS} ms); every partition owned again ${ownedAgain} ms after the restart; ${errors.length} failed rounds`);
  });
});

describe('partition leases over JetStream, three servers', () => {
  it('two keepers compete on a three-replica stream and ride out its leader killed -9: never two owners at once, every partition owned again after', async () => {
    const cluster = await startNatsCluster(3);
    const events: LeaseEvent[] = [];
    const errors: unknown[] = [];
    const opts = { replicas: 3 as const, ttlMs: 3_000, onError: (e: unknown) => errors.push(e) };
    const a = await startKeeper(cluster.urls, 'node-a', events, opts);
    const b = await startKeeper([...cluster.urls].reverse(), 'node-b', events, opts);
    await Promise.all([a.claim(ALL), b.claim(ALL)]);
    await until(() => coveredOnce([a, b]), 'all eight partitions owned');

    const observer = await connectTo(cluster.urls, 'observer');
    const leader = (await observer.jsm.streams.info(LEASE_STREAM)).cluster?.leader;
    expect(leader).toBeDefined();
    await cluster.byName(leader!).kill('SIGKILL');
    const killedAt = Date.now();
    // Every lease written (renewed, or lost during the election and taken again) after the kill.
    await until(() => coveredOnce([a, b]) && [...a.leases(), ...b.leases()].every((l) => l.expiresAt > killedAt + 3_000), 'every partition owned after the failover', 30_000);
    const ownedAgain = Date.now() - killedAt;
    const coveredAt = Date.now();
    await until(() => [...a.leases(), ...b.leases()].every((l) => l.expiresAt > coveredAt + 3_000), 'a renewal of every lease after the failover');
    expect(coveredOnce([a, b])).toBe(true);
    expect(doubleOwnerships(events)).toEqual([]);
    const stored = await storedLeases(observer);
    for (const [node, keeper] of [['node-a', a], ['node-b', b]] as const) {
      for (const l of keeper.leases()) expect(stored[l.partition]).toEqual({ owner: node, epoch: l.epoch });
    }
    const lost = events.filter((e) => e.kind === 'lost' && e.at > killedAt);
    console.info(
      `three servers: killed the lease stream's leader; ${lost.length} leases reported lost (${[...new Set(lost.map((e) => e.reason))].join(', ')}); every partition owned again ${ownedAgain} ms after the kill; ${errors.length} failed rounds`,
    );
  });
});
