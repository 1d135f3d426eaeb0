// `omni serve --nats`: the node's engine as the gateway sees it. Events go to the cluster (into
// their partitions' logs, answered by each partition's owner); reads, snapshots and pushes come
// from this node's own engine, which applies the partitions this node owns.

import type { ClusterNode } from '../cluster/mod.ts';
import type { Engine, EventResult, Output, ThreadedEngine } from '../engine/mod.ts';
import type { ClusterReport, ClusterStatsReport, GatewayEngine, PushEngine } from '../gateway/mod.ts';

export class ClusterEngine implements GatewayEngine, PushEngine {
  constructor(
    private readonly local: Engine | ThreadedEngine,
    private readonly node: ClusterNode,
    private readonly nodeId: string,
  ) {}

  get epoch(): string {
    return this.local.epoch;
  }

  submit(events: unknown[]): Promise<EventResult[]> {
    return this.node.submit(events);
  }

  async cluster(): Promise<ClusterReport> {
    return { node: this.nodeId, ...(await this.node.view()) };
  }

  ready(): boolean {
    return this.node.ready();
  }

  clusterStats(): Promise<ClusterStatsReport> {
    return this.node.stats();
  }

  snapshot: GatewayEngine['snapshot'] = (topic) => this.local.snapshot(topic);
  query: GatewayEngine['query'] = (processor, name, args) => this.local.query(processor, name, args);
  read: GatewayEngine['read'] = (key) => this.local.read(key);
  onBatch: GatewayEngine['onBatch'] = (listener) => this.local.onBatch(listener);
  stats: GatewayEngine['stats'] = () => this.local.stats();
  stateStats: GatewayEngine['stateStats'] = () => this.local.stateStats();
  layout = () => this.local.layout();
  onFatal = (listener: (error: Error) => void) => this.local.onFatal(listener);
  lastSeq = (topic: string) => this.local.lastSeq(topic);
  // Every changed topic is rendered, whatever this node's subscribers: the render goes into the
  // changelog, and the other nodes' subscribers are served from it.
  setInterest = (_predicate: ((topic: string) => boolean) | undefined) => this.local.setInterest(undefined);
  onOutput = (listener: (outputs: Output[]) => void) => this.local.onOutput(listener);
  // Not passed on: every topic is rendered already (setInterest above), so an engine thread has
  // no skipped update to make up for with a snapshot of its own.
  watch = (_topic: string, _watched: boolean) => {};
}
