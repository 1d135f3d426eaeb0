// The event log over NATS JetStream: what a node needs to append a partition's events to a shared,
// replicated log and read a partition back from the sequence it committed, and partition
// ownership by leases in a stream of their own. Nothing in `omni serve` uses it yet
// (docs/architecture.md, "Past one machine").

export { connectCluster, type ClusterConnection } from './connection.ts';
export { AppendError, CLUSTER_ERROR_CODES, ClusterError, type ClusterErrorCode } from './errors.ts';
export { DEFAULT_DUPLICATE_WINDOW_MS, EventLog, partitionSubject, STREAM_NAME } from './event-log.ts';
export { PartitionReader } from './partition-reader.ts';
export type { AppendOptions, ConnectionStatus, ConnectOptions, EventLogOptions, LogEntry, LogRecord, ReaderOptions } from './types.ts';
export { LEASE_STREAM, LeaseKeeper, leaseSubject } from './leases.ts';
export type { HeldLease, LeaseKeeperOptions, LeaseLossReason } from './types.ts';
