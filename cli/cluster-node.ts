// `omni serve --nats`: joins this process to a cluster of nodes sharing a NATS JetStream system.
// The engine applies the partitions this node owns; events taken here go to their partitions'
// logs and are answered by their owners (docs/architecture.md, "Past one machine").

import { hostname } from 'node:os';
import { ClusterError, ClusterNode, connectCluster, type ClusterConnection } from '../cluster/mod.ts';
import { defaultProcessors, EventRouter, type DomainOptions, type Engine, type ThreadedEngine } from '../engine/mod.ts';
import { ClusterEngine } from './cluster-engine.ts';
import type { CliIO } from './io.ts';

export interface ClusterFlags {
  /** Comma-separated NATS server URLs. */
  nats: string;
  node?: string;
  cluster?: string;
}

export interface JoinedNode {
  engine: ClusterEngine;
  /** Leaves the cluster (leases written free) and closes the NATS connection. */
  leave(): Promise<void>;
}

/** The host name as a node id: the characters a NATS subject token may hold, others as `-`. */
export function defaultNodeId(): string {
  return hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'node';
}

/** Joins, or says why it cannot (on `io.err`) and resolves undefined. */
export async function joinCluster(flags: ClusterFlags, local: Engine | ThreadedEngine, domains: DomainOptions, io: CliIO): Promise<JoinedNode | undefined> {
  const nodeId = flags.node ?? defaultNodeId();
  const servers = flags.nats.split(',').map((s) => s.trim()).filter((s) => s !== '');
  let conn: ClusterConnection | undefined;
  try {
    conn = await connectCluster({
      servers,
      cluster: flags.cluster,
      name: nodeId,
      onStatus: (s) => {
        if (s.type === 'disconnect' || s.type === 'reconnect') io.err(`omni: NATS ${s.type} ${s.detail}`);
      },
    });
    // An owner renders every topic its batches change from the first one on, whoever listens
    // here: the render goes into the changelog, and other nodes' subscribers are served from it
    // (an engine with no listener renders nothing).
    local.onOutput(() => {});
    local.setInterest(undefined);
    const partitions = local.layout().partitions;
    // Three servers or more: every stream on three of them, so one may be lost (a single server: one copy).
    const replicas = servers.length >= 3 ? 3 : 1;
    const node = await ClusterNode.start(conn, local, new EventRouter(defaultProcessors(domains), partitions), { nodeId, partitions, replicas });
    io.err(`omni: node ${nodeId} joined cluster '${conn.names.cluster}' (${partitions} partitions, streams with ${replicas} replica${replicas > 1 ? 's' : ''}) at ${servers.join(', ')}`);
    const joined = conn;
    return {
      engine: new ClusterEngine(local, node, nodeId),
      leave: async () => {
        await node.stop();
        await joined.close();
      },
    };
  } catch (error) {
    await conn?.close().catch(() => {});
    if (!(error instanceof ClusterError)) throw error;
    io.err(`omni: cannot join the cluster: ${error.message}`);
    return undefined;
  }
}
