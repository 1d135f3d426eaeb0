// One node of the cluster: takes events into the log for every partition (LogIngest), applies
// the partitions it owns into its engine (PartitionOwner), and keeps a copy of every other
// partition from the changelog (PartitionCopies). Which partitions it should own comes from the
// nodes up (Membership); that it does own them, from its leases (LeaseKeeper). A node joining
// makes the others give up its share (each stops applying a partition before it releases it);
// a node gone silent has its share taken once its leases expire. Taking a partition over: a
// fence in its changelog under the new lease epoch, the copy caught up to the fence (whatever
// the last owner stored before it counts, nothing after it), then the log applied from the
// position the copy holds. Giving one up: the last batch applied, then a copy again.

import type { EventResult, EventRouter, RemotePartitions } from '../engine/mod.ts';
import { ChangelogWriter } from './changelog.ts';
import type { ClusterConnection } from './connection.ts';
import { DerivedForwarder } from './derived-forwarder.ts';
import { ClusterError } from './errors.ts';
import { EventLog } from './event-log.ts';
import { LeaseKeeper } from './leases.ts';
import { LogIngest } from './log-ingest.ts';
import { Membership } from './membership.ts';
import { NodeStats, type ClusterStats } from './node-stats.ts';
import type { NodeEngine } from './node-engine.ts';
import { PartitionCopies } from './partition-copies.ts';
import { PartitionOwner } from './partition-owner.ts';
import { ChangelogReplicator } from './replication.ts';

export interface ClusterNodeOptions {
  /** Unique among the running nodes; a subject token (letters, digits, `-`, `_`). */
  nodeId: string;
  partitions: number;
  /** 1 on a single NATS server, 3 in a cluster of three. */
  replicas?: 1 | 3;
  /**
   * How long a lease lasts unless renewed (ms; default 3000): a node killed without a word has
   * its partitions taken this long plus the clock margin after its last renewal.
   */
  leaseTtlMs?: number;
  /** The most two nodes' clocks may differ (ms; default 500, below half the ttl). */
  maxClockSkewMs?: number;
  /** How often a node announces itself (ms; default 1000); silent 3.5 times that, it is down. */
  heartbeatMs?: number;
  answerWaitMs?: number;
  answerTimeoutMs?: number;
  /** A partition's owner stopped on an engine failure: the node gives the partition up. */
  onOwnerFailure?: (partition: number, error: unknown) => void;
}

const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Short enough that a killed node's partitions are served again within about 4 s. */
const DEFAULT_LEASE_TTL_MS = 3_000;
const DEFAULT_CLOCK_SKEW_MS = 500;

/** The cluster as one node sees it (GET /v1/cluster). */
export interface ClusterView {
  cluster: string;
  partitions: number;
  /** Every node up or holding a lease, in id order: `alive` when heard from lately. */
  nodes: Array<{ node: string; alive: boolean; partitions: number[] }>;
}

export class ClusterNode {
  private readonly owners = new Map<number, PartitionOwner>();
  private leases!: LeaseKeeper;
  private membership!: Membership;
  private ingest!: LogIngest;
  private rebalancing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Per partition, the last takeover or hand-over: the next waits for it. */
  private readonly transitions = new Map<number, Promise<void>>();
  private copies!: PartitionCopies;
  private writer!: ChangelogWriter;
  private replicator!: ChangelogReplicator;
  private forwarder!: DerivedForwarder;
  private tally!: NodeStats;
  /**
   * Where the engine's derived events go: applied here for the partitions this node owns, appended
   * to the owner's log for the others. Given to the engine again at every change of ownership.
   */
  private readonly remote: RemotePartitions = {
    isLocal: (p) => this.owners.has(p),
    send: (items) => this.forwarder.forward(items),
    // A pending event's final answer is given on the partition that took it, where its log
    // entry is answered; a taking node that missed it asks that partition's owner.
    answered: () => {},
  };

  private constructor(
    private readonly conn: ClusterConnection,
    private readonly engine: NodeEngine,
    private readonly log: EventLog,
    private readonly opts: ClusterNodeOptions,
  ) {}

  static async start(conn: ClusterConnection, engine: NodeEngine, router: EventRouter, opts: ClusterNodeOptions): Promise<ClusterNode> {
    if (!NODE_ID.test(opts.nodeId)) throw new ClusterError('invalid', `node id must be 1–64 letters, digits, '-' or '_', got '${opts.nodeId}'`);
    if (router.partitions !== opts.partitions) throw new ClusterError('invalid', `the router has ${router.partitions} partitions, the node ${opts.partitions}`);
    const log = await EventLog.open(conn, { partitions: opts.partitions, replicas: opts.replicas });
    const changelog = await EventLog.open(conn, { partitions: opts.partitions, replicas: opts.replicas, kind: 'changes' });
    const node = new ClusterNode(conn, engine, log, opts);
    node.forwarder = new DerivedForwarder(log, (keys) => engine.derivedSent(keys));
    node.writer = new ChangelogWriter(changelog);
    node.tally = new NodeStats(conn, log, changelog, opts.nodeId);
    node.replicator = new ChangelogReplicator(node.writer);
    engine.setRemote(node.remote);
    engine.setReplicator(node.replicator);
    // A copy of every partition until this node owns it.
    node.copies = new PartitionCopies(conn, changelog, engine, opts.nodeId, (p, error) => opts.onOwnerFailure?.(p, error));
    for (let p = 0; p < opts.partitions; p++) node.copies.follow(p);
    node.ingest = new LogIngest(conn, log, router, { nodeId: opts.nodeId, answerWaitMs: opts.answerWaitMs, answerTimeoutMs: opts.answerTimeoutMs });
    node.leases = await LeaseKeeper.open(conn, {
      nodeId: opts.nodeId,
      partitions: opts.partitions,
      replicas: opts.replicas,
      ttlMs: opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      maxClockSkewMs: opts.maxClockSkewMs ?? DEFAULT_CLOCK_SKEW_MS,
      onGained: (p, epoch) => {
        node.tally.leaseGained(p);
        void node.transition(p, () => node.takeOver(p, epoch));
      },
      onLost: (p) => void node.transition(p, () => node.handOver(p)),
    });
    node.membership = new Membership(conn, { nodeId: opts.nodeId, heartbeatMs: opts.heartbeatMs, onChange: () => node.rebalance() });
    node.rebalance();
    return node;
  }

  /**
   * Answers once each event is applied by its partition's owner, wherever that is (LogIngest.submit).
   * Without a connection to NATS it refuses at once (ClusterError `unavailable`): nothing sent then
   * could be made durable.
   */
  submit(events: readonly unknown[]): Promise<EventResult[]> {
    if (!this.conn.connected) return Promise.reject(new ClusterError('unavailable', 'the connection to NATS is lost; events are refused until it is back'));
    return this.ingest.submit(events);
  }

  /** Whether this node owns exactly its share among the nodes up, taken over (and is connected). */
  ready(): boolean {
    if (this.stopped || !this.conn.connected) return false;
    return this.owned().join() === this.membership.assigned(this.opts.partitions).join();
  }

  /** The nodes up and which partitions each holds a lease on, as the lease stream has it now. */
  async view(): Promise<ClusterView> {
    const alive = new Set(this.membership.nodes());
    const byNode = new Map<string, number[]>([...alive].map((n) => [n, []]));
    for (const { partition, owner } of await this.leases.holders()) {
      if (owner === '') continue;
      let list = byNode.get(owner);
      if (!list) byNode.set(owner, (list = []));
      list.push(partition);
    }
    const nodes = [...byNode].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([node, partitions]) => ({ node, alive: alive.has(node), partitions }));
    return { cluster: this.conn.names.cluster, partitions: this.opts.partitions, nodes };
  }

  /** Lag per partition, ownership changes, takeover times and NATS round trips (GET /metrics). */
  stats(): Promise<ClusterStats> {
    return this.tally.read((p) => this.owners.has(p));
  }

  /** The partitions this node applies now, in order. */
  owned(): number[] {
    return [...this.owners.keys()].sort((a, b) => a - b);
  }

  /** The nodes up as this node sees them. */
  nodes(): string[] {
    return this.membership.nodes();
  }

  /**
   * Leaves the cluster: stops applying, and — unless `release` is false (as a crash would) —
   * writes its leases free, so the others take its partitions at once rather than at expiry.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.membership.stop();
    await this.rebalancing;
    await Promise.all([...this.owners.keys()].map((p) => this.transition(p, () => this.handOver(p))));
    if (opts.release !== false) await this.leases.release().catch(() => {});
    await this.leases.stop();
    await Promise.all([...this.transitions.values()]);
    await this.copies.stopAll();
    this.engine.setReplicator(undefined);
    await this.forwarder.stop();
    await this.ingest.close();
  }

  /** Runs `task` after the partition's transitions before it. */
  private transition(p: number, task: () => Promise<void>): Promise<void> {
    const next = (this.transitions.get(p) ?? Promise.resolve()).then(task).catch((error: unknown) => this.opts.onOwnerFailure?.(p, error));
    this.transitions.set(p, next);
    return next;
  }

  private async takeOver(p: number, epoch: number): Promise<void> {
    if (this.stopped || this.owners.has(p)) return;
    const fence = await this.writer.fence(p, epoch);
    await this.copies.caughtUp(p, fence);
    await this.copies.stop(p);
    // Lost again while catching up: a copy it stays.
    if (this.stopped || !this.leases.owns(p)) return this.copies.follow(p);
    this.replicator.owned(p, epoch);
    const owner = new PartitionOwner(this.conn, this.log, this.engine, {
      partition: p,
      awaitCopy: (q, seq) => (this.owners.has(q) ? Promise.resolve() : this.copies.caughtUp(q, seq)),
      onFailure: (error) => {
        this.opts.onOwnerFailure?.(p, error);
        void this.transition(p, () => this.handOver(p)).then(() => this.leases.release([p]).catch(() => {}));
      },
    });
    this.owners.set(p, owner);
    this.tally.tookOver(p);
    // Derived events for p still in the outbox are applied here from now on, and its timers fire here.
    this.engine.setRemote(this.remote);
  }

  private async handOver(p: number): Promise<void> {
    const owner = this.owners.get(p);
    if (owner) {
      this.owners.delete(p);
      this.tally.gaveUp();
      this.engine.setRemote(this.remote);
      await owner.stop();
    }
    if (!this.stopped) this.copies.follow(p);
  }

  /** Claims this node's share among the nodes up; gives up the rest, each after its last batch is applied. */
  private rebalance(): void {
    this.rebalancing = this.rebalancing.then(async () => {
      if (this.stopped) return;
      const share = new Set(this.membership.assigned(this.opts.partitions));
      for (const { partition } of this.leases.leases()) if (!share.has(partition)) await this.transition(partition, () => this.handOver(partition));
      // Wanted no more, held or not: the held ones are written free for the nodes they belong to.
      const others = Array.from({ length: this.opts.partitions }, (_, p) => p).filter((p) => !share.has(p));
      await this.leases.release(others).catch(() => {});
      await this.leases.claim([...share]).catch(() => {});
    });
  }
}
