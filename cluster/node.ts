// One node of the cluster: takes events into the log for every partition (LogIngest), and
// applies the partitions it owns into its engine (PartitionOwner). Which it should own comes
// from the nodes up (Membership); that it does own them, from its leases (LeaseKeeper). A node
// joining makes the others give up its share (each stops applying a partition before it
// releases it, so the next owner starts after the last batch); a node gone silent has its
// share taken once its leases expire. A partition's new owner applies its log from the position
// its own engine committed, so its copy of the partition's state is the log folded up to there.

import { setTimeout as sleep } from 'node:timers/promises';
import type { EventResult, EventRouter, RemoteDerived, RemotePartitions } from '../engine/mod.ts';
import type { ClusterConnection } from './connection.ts';
import { ClusterError } from './errors.ts';
import { EventLog } from './event-log.ts';
import { LeaseKeeper } from './leases.ts';
import { LogIngest } from './log-ingest.ts';
import { derivedMsgID, encode, type LoggedDerivedEvent } from './log-wire.ts';
import { Membership } from './membership.ts';
import { PartitionOwner, type LoggedEngine } from './partition-owner.ts';

export interface ClusterNodeOptions {
  /** Unique among the running nodes; a subject token (letters, digits, `-`, `_`). */
  nodeId: string;
  partitions: number;
  /** 1 on a single NATS server, 3 in a cluster of three. */
  replicas?: 1 | 3;
  leaseTtlMs?: number;
  maxClockSkewMs?: number;
  heartbeatMs?: number;
  answerWaitMs?: number;
  answerTimeoutMs?: number;
  /** A partition's owner stopped on an engine failure: the node gives the partition up. */
  onOwnerFailure?: (partition: number, error: unknown) => void;
}

const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

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
  /** Derived events still being appended to other partitions' logs. */
  private forwarding = new Set<Promise<void>>();
  /**
   * Where the engine's derived events go: applied here for the partitions this node owns, appended
   * to the owner's log for the others. Given to the engine again at every change of ownership.
   */
  private readonly remote: RemotePartitions = {
    isLocal: (p) => this.owners.has(p),
    send: (items) => this.forward(items),
    // A pending event's final answer is given on the partition that took it, where its log
    // entry is answered; a taking node that missed it asks that partition's owner.
    answered: () => {},
  };

  private constructor(
    private readonly conn: ClusterConnection,
    private readonly engine: LoggedEngine,
    private readonly log: EventLog,
    private readonly opts: ClusterNodeOptions,
  ) {}

  static async start(conn: ClusterConnection, engine: LoggedEngine, router: EventRouter, opts: ClusterNodeOptions): Promise<ClusterNode> {
    if (!NODE_ID.test(opts.nodeId)) throw new ClusterError('invalid', `node id must be 1–64 letters, digits, '-' or '_', got '${opts.nodeId}'`);
    if (router.partitions !== opts.partitions) throw new ClusterError('invalid', `the router has ${router.partitions} partitions, the node ${opts.partitions}`);
    const log = await EventLog.open(conn, { partitions: opts.partitions, replicas: opts.replicas });
    const node = new ClusterNode(conn, engine, log, opts);
    node.ingest = new LogIngest(conn, log, router, { nodeId: opts.nodeId, answerWaitMs: opts.answerWaitMs, answerTimeoutMs: opts.answerTimeoutMs });
    node.leases = await LeaseKeeper.open(conn, {
      nodeId: opts.nodeId,
      partitions: opts.partitions,
      replicas: opts.replicas,
      ttlMs: opts.leaseTtlMs,
      maxClockSkewMs: opts.maxClockSkewMs,
      onGained: (p) => node.own(p),
      onLost: (p) => void node.disown(p),
    });
    engine.setRemote(node.remote);
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

  /** Whether this node owns exactly its share among the nodes up (and is connected). */
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
    await Promise.all([...this.owners.keys()].map((p) => this.disown(p)));
    if (opts.release !== false) await this.leases.release().catch(() => {});
    await this.leases.stop();
    await Promise.all([...this.forwarding]);
    await this.ingest.close();
  }

  /**
   * Appends derived events to their partitions' logs, then lets the engine take them out of its
   * outbox. Until then they stay there: a failed append is retried here, and whatever a crash
   * interrupts is sent again when the engine opens (the owner drops a second copy by its id).
   */
  private forward(items: RemoteDerived[]): void {
    const byPartition = new Map<number, RemoteDerived[]>();
    for (const item of items) {
      let list = byPartition.get(item.partition);
      if (!list) byPartition.set(item.partition, (list = []));
      list.push(item);
    }
    for (const [partition, list] of byPartition) {
      const entries = list.map((i) => ({ msgID: derivedMsgID(i.event.id), data: encode({ derived: i.event, arrival: i.arrival } satisfies LoggedDerivedEvent) }));
      const done = (async () => {
        for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
          try {
            await this.log.append(partition, entries);
            this.engine.derivedSent(list.map((i) => i.outboxKey));
            return;
          } catch {
            if (this.stopped) return;
            await sleep(pause);
          }
        }
      })();
      this.forwarding.add(done);
      void done.then(() => this.forwarding.delete(done));
    }
  }

  private own(p: number): void {
    if (this.stopped || this.owners.has(p)) return;
    const owner = new PartitionOwner(this.conn, this.log, this.engine, {
      partition: p,
      onFailure: (error) => {
        this.opts.onOwnerFailure?.(p, error);
        void this.disown(p).then(() => this.leases.release([p]).catch(() => {}));
      },
    });
    this.owners.set(p, owner);
    // Derived events for p still in the outbox are applied here from now on.
    this.engine.setRemote(this.remote);
  }

  private async disown(p: number): Promise<void> {
    const owner = this.owners.get(p);
    if (!owner) return;
    this.owners.delete(p);
    this.engine.setRemote(this.remote);
    await owner.stop();
  }

  /** Claims this node's share among the nodes up; gives up the rest, each after its last batch is applied. */
  private rebalance(): void {
    this.rebalancing = this.rebalancing.then(async () => {
      if (this.stopped) return;
      const share = new Set(this.membership.assigned(this.opts.partitions));
      for (const { partition } of this.leases.leases()) if (!share.has(partition)) await this.disown(partition);
      // Wanted no more, held or not: the held ones are written free for the nodes they belong to.
      const others = Array.from({ length: this.opts.partitions }, (_, p) => p).filter((p) => !share.has(p));
      await this.leases.release(others).catch(() => {});
      await this.leases.claim([...share]).catch(() => {});
    });
  }
}
