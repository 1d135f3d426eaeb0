// The part of the engine the gateway uses. Declared here, structurally, so the gateway depends on
// what it calls rather than on the Engine class, and tests can hand it a stand-in when needed.

import type { BatchStats, EngineLayout, EngineStats, EventResult, StateView } from '../engine/mod.ts';

export interface TopicSnapshot {
  seq: number;
  epoch: string;
  data: unknown;
}

export interface GatewayEngine {
  /** Resolves once the batch is durable; throws EngineClosedError while closing. */
  submit(events: unknown[]): Promise<EventResult[]>;
  snapshot(topic: string): TopicSnapshot | undefined;
  /** A processor's read-only query on committed state (recommendations for a store). */
  query(processor: string, name: string, args: Record<string, unknown>): unknown;
  /** One committed state value (the service routes read the queue counters through it). */
  read<T>(key: string): T | undefined;
  onBatch(listener: (stats: BatchStats) => void): () => void;
  stats(): EngineStats;
  stateStats(): { entries: number; bytes: number };
  /** Which worker applies which partitions (GET /v1/cluster; optional for stand-ins). */
  layout?(): EngineLayout;
  /** Called if a commit fails and the engine stops taking events (optional for stand-ins). */
  onFatal?(listener: (error: Error) => void): () => void;
  /** In a cluster: the nodes and who holds which partition (GET /v1/cluster); absent when embedded. */
  cluster?(): Promise<ClusterReport>;
  /** In a cluster: false until the node has joined and owns its share (GET /readyz). */
  ready?(): boolean;
  /** In a cluster: lag, ownership changes, takeovers and NATS round trips (GET /metrics); absent when embedded. */
  clusterStats?(): Promise<ClusterStatsReport>;
}

/** GET /v1/cluster in cluster mode. */
export interface ClusterReport {
  cluster: string;
  node: string;
  partitions: number;
  nodes: Array<{ node: string; alive: boolean; partitions: number[] }>;
}

/** A cluster node's figures for GET /metrics (gateway/http/cluster-metrics.ts). */
export interface ClusterStatsReport {
  /** Per partition whose consumer could be read: entries in its log (owner) or changelog (copy) not yet delivered here. */
  lag: Array<{ partition: number; role: 'owner' | 'copy'; pending: number }>;
  ownerChanges: { gained: number; lost: number };
  takeovers: { count: number; seconds: number; lastSeconds: number };
  roundTrips: { events: { acks: number; seconds: number }; changes: { acks: number; seconds: number } };
}

/** The engine's committed state as a StateView, for the engine's pure readers (queues, agents, identities). */
export function committedView(engine: Pick<GatewayEngine, 'read'>): StateView {
  return { get: <T>(key: string) => engine.read<T>(key) };
}
