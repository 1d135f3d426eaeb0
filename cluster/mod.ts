// The cluster over NATS JetStream: a shared, replicated log of each partition's events (appended,
// and read back from the sequence a partition committed), partition ownership by leases in a
// stream of their own, and the two roles a node plays on them: taking events into the log and
// answering them (LogIngest), and applying an owned partition's log (PartitionOwner). Nothing
// in `omni serve` uses it yet (docs/architecture.md, "Past one machine").

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
