// The cluster over NATS JetStream that `omni serve --nats` runs (docs/architecture.md, "Past one
// machine"): a shared, replicated log of each partition's events, partition ownership by leases,
// a changelog every node copies every partition from, and the node that ties them together
// (ClusterNode): taking events into the log (LogIngest), applying owned partitions
// (PartitionOwner), keeping copies of the others (PartitionCopies).

export { connectCluster, type ClusterConnection } from './connection.ts';
export { clusterNames, DEFAULT_CLUSTER, type ClusterNames } from './names.ts';
export { AppendError, CLUSTER_ERROR_CODES, ClusterError, type ClusterErrorCode } from './errors.ts';
export { DEFAULT_DUPLICATE_WINDOW_MS, EventLog, partitionSubject, STREAM_NAME } from './event-log.ts';
export { PartitionReader } from './partition-reader.ts';
export type { AppendOptions, ConnectionStatus, ConnectOptions, EventLogOptions, LogEntry, LogRecord, ReaderOptions } from './types.ts';
export { LEASE_STREAM, LeaseKeeper, leaseSubject } from './leases.ts';
export { LogIngest, type LogIngestOptions } from './log-ingest.ts';
export { PartitionOwner, type PartitionOwnerOptions } from './partition-owner.ts';
export type { LoggedEngine, NodeEngine } from './node-engine.ts';
export { Membership, ownerAmong, type MembershipOptions } from './membership.ts';
export { ClusterNode, type ClusterNodeOptions, type ClusterView } from './node.ts';
export type { ClusterStats, PartitionLag, PublishStats } from './node-stats.ts';
export { ChangelogReader, ChangelogWriter, type ChangeEntry, type ChangelogReaderOptions, type ReadChange } from './changelog.ts';
export type { HeldLease, LeaseKeeperOptions, LeaseLossReason } from './types.ts';
