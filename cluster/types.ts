// Shapes shared by the files of cluster/ (so none of them imports another for a type).

/** A connection state change worth a log line (pings are left out). */
export interface ConnectionStatus {
  /** nats.js' status type: `disconnect`, `reconnecting`, `reconnect`, `update`, `error`, `close`, ... */
  type: string;
  /** The server or error it concerns, as text. */
  detail: string;
}

export interface ConnectOptions {
  /** Every server of the cluster ("host:port"): the client fails over between them. */
  servers: string[];
  /** The cluster's name, the prefix of its subjects and streams (cluster/names.ts; default `omni`). */
  cluster?: string;
  /** Shown by the servers (connz) for this connection: the node's id. */
  name?: string;
  /** Pause between reconnect rounds; nats.js' 2 s default leaves a restarted server idle for seconds. */
  reconnectTimeWaitMs?: number;
  /** How long start-up waits for a JetStream that answers (a fresh cluster elects its meta leader first). */
  startupTimeoutMs?: number;
  onStatus?: (status: ConnectionStatus) => void;
}

/** One entry to append: the caller's deterministic id (dedup key) and the bytes. */
export interface LogEntry {
  msgID: string;
  data: Uint8Array;
}

export interface EventLogOptions {
  /** The partition count: subjects exist for 0 … partitions-1. */
  partitions: number;
  /** Which log: the events sent (default), or the owners' changelog (changelog.ts). */
  kind?: 'events' | 'changes';
  /** 1 on a single server, 3 in a cluster of three. Fixed when the stream is created. */
  replicas?: 1 | 3;
  /** How long the servers remember a msgID (ms). A retry after this can store an entry twice. */
  duplicateWindowMs?: number;
  /** How long one entry's publish is retried before the append fails with `unavailable` (ms). */
  retryForMs?: number;
  /** How long one publish attempt waits for its acknowledgement (ms). */
  attemptTimeoutMs?: number;
}

export interface AppendOptions {
  /** Overrides EventLogOptions.retryForMs for this call. */
  retryForMs?: number;
  /**
   * Called with the index of each entry the log held under its msgID before this call (a retry
   * of an earlier append, within the duplicate window); not for one this call's own retries stored.
   */
  onDuplicate?: (index: number) => void;
  /**
   * The first entry makes an unsettled one of its partition moot (a changelog fence: readers drop
   * an older epoch's entry stored after it), so it may be stored before that one is retried.
   */
  supersedesUnsettled?: boolean;
}

/** One event read back: its stream sequence (what a partition commits) and its bytes. */
export interface LogRecord {
  seq: number;
  data: Uint8Array;
}

export interface ReaderOptions {
  partition: number;
  /** The last stream sequence the partition committed (0: none): reading starts after it. */
  after: number;
  /** Called with each batch in order; the next batch waits for its promise (backpressure). */
  onBatch: (batch: LogRecord[]) => void | Promise<void>;
  /** Most records per batch (and per pull request). */
  maxBatch?: number;
  /** How long one pull request waits on the server for messages (ms, at least 1000). */
  expiresMs?: number;
  /** Nothing delivered this long while the partition has later messages: re-create the consumer (ms). */
  stallMs?: number;
  /** The durable consumer's name (default `omni-p<partition>`); one reader per name at a time. */
  consumerName?: string;
  /** Called when the reader re-creates its consumer, and why (for logs and tests). */
  onRecreate?: (reason: string) => void;
}

/** Why a LeaseKeeper stopped treating a partition as its own. */
export type LeaseLossReason =
  /** The lease record names another owner or a newer epoch. */
  | 'superseded'
  /** Not renewed in time: the lease was about to expire on this node's clock. */
  | 'expiring'
  /** Given up by `release()`. */
  | 'released'
  /** The keeper was stopped. */
  | 'stopped';

/** A partition's lease as the keeper holds it. */
export interface HeldLease {
  partition: number;
  /** Counts up at every change of owner: a new owner's epoch is above every earlier one. */
  epoch: number;
  /** This node's clock (ms since the epoch) at which the lease runs out unless renewed. */
  expiresAt: number;
}

export interface LeaseKeeperOptions {
  /** This node's id, unique among running processes (a restarted node takes its own old leases at once). */
  nodeId: string;
  /** The partition count: leases exist for 0 … partitions-1. */
  partitions: number;
  /** 1 on a single server, 3 in a cluster of three. Fixed when the stream is created. */
  replicas?: 1 | 3;
  /** How long a lease lasts unless renewed (ms); renewals run every third of it. */
  ttlMs?: number;
  /**
   * The most two nodes' clocks may differ (ms): another node takes an expired lease only this
   * long after its expiry, as its own clock reads it. Must stay below ttlMs / 2.
   */
  maxClockSkewMs?: number;
  /** Most partitions taken in one round, so one node does not grab everything at start. */
  maxClaimsPerRound?: number;
  /** How long one lease write waits for its acknowledgement (ms). */
  writeTimeoutMs?: number;
  onGained?: (partition: number, epoch: number) => void;
  onLost?: (partition: number, reason: LeaseLossReason) => void;
  /** A round that failed (server away, timeouts): for logs; the keeper retries by itself. */
  onError?: (error: unknown) => void;
}
