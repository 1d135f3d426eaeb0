// The event log: one JetStream stream, one subject per partition. Appending is idempotent by a
// msgID the caller derives from the event (the servers drop a second copy within the duplicate
// window and answer the first copy's sequence), which is what makes retrying through a lost server
// safe: a write whose acknowledgement was lost is retried, and stored once.

import { setTimeout as sleep } from 'node:timers/promises';
import { JetStreamApiError, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { ClusterConnection } from './connection.ts';
import { AppendError, ClusterError, checkPartitionCount, describeError, isNotFound } from './errors.ts';
import { clusterNames } from './names.ts';
import type { AppendOptions, EventLogOptions, LogEntry } from './types.ts';

/** The event stream of the cluster named `omni` (the default). */
export const STREAM_NAME = clusterNames().eventStream;
/** The subject partition `p` is appended to and read from. */
export const partitionSubject = (p: number) => clusterNames().eventSubject(p);

/**
 * Two minutes (the server's default): longer than any retry of `append` (its bound is seconds), so
 * a retry is always deduplicated; the servers keep every msgID this long, in memory, so a much
 * longer window costs memory at high rates.
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
const DEFAULT_RETRY_FOR_MS = 15_000;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 2_000;
const BACKOFF_FIRST_MS = 50;
const BACKOFF_MAX_MS = 1_000;
const NS_PER_MS = 1_000_000;

export class EventLog {
  readonly partitions: number;
  /** The stream this log is, and the subject of each partition in it. */
  readonly stream: string;
  readonly subject: (partition: number) => string;
  private readonly retryForMs: number;
  private readonly attemptTimeoutMs: number;
  /** Per partition, the last append queued: the next one starts after it, so entries keep their order. */
  private readonly tails = new Map<number, Promise<unknown>>();
  /**
   * Per partition, the msgID of an entry that failed `unavailable` (it must be appended first) and
   * those its append stored before it (a retry of that whole append may send them again first:
   * they are stored already, so nothing new lands before it).
   */
  private readonly unsettled = new Map<number, { msgID: string; storedBefore: Set<string> }>();
  /** Publishes JetStream acknowledged (every attempt answered, retries included) and their summed time. */
  readonly stats = { acks: 0, seconds: 0 };

  private constructor(
    private readonly conn: ClusterConnection,
    opts: EventLogOptions,
  ) {
    this.partitions = opts.partitions;
    const changes = opts.kind === 'changes';
    this.stream = changes ? conn.names.changeStream : conn.names.eventStream;
    this.subject = changes ? conn.names.changeSubject : conn.names.eventSubject;
    this.retryForMs = opts.retryForMs ?? DEFAULT_RETRY_FOR_MS;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  }

  /** Creates the stream if missing (retrying while a cluster elects leaders), or checks the one there. */
  static async open(conn: ClusterConnection, opts: EventLogOptions): Promise<EventLog> {
    checkPartitionCount(opts.partitions);
    const config = streamConfig(conn, opts);
    await ensureStream(conn, config, opts.retryForMs ?? DEFAULT_RETRY_FOR_MS);
    await checkPartitionsOf(conn, config.name, opts.partitions);
    return new EventLog(conn, opts);
  }

  /**
   * Appends `entries` to partition `partition`, in order, and answers the stream sequence of each
   * (for an entry stored before under the same msgID, its original sequence). Entries of one
   * partition are published one at a time, each after the previous one's acknowledgement: a retry
   * of an earlier entry can then never land behind a later one.
   *
   * Rejects with an AppendError: `unavailable` when an entry could not be stored within the
   * bound (its `stored` says which leading entries were), `rejected` when the server refused one
   * for good, `unsettled` when an `unavailable` entry of the partition was not retried first.
   */
  append(partition: number, entries: readonly LogEntry[], opts: AppendOptions = {}): Promise<number[]> {
    // Bad input rejects like every other failure, so a caller has one place to handle errors.
    const invalid = this.checkInput(partition, entries);
    if (invalid) return Promise.reject(invalid);
    const run = (this.tails.get(partition) ?? Promise.resolve()).then(() => this.appendSerially(partition, entries, opts));
    const tail = run.catch(() => {});
    this.tails.set(partition, tail);
    // Drop the chain once idle, so an idle partition holds no promise.
    void tail.then(() => {
      if (this.tails.get(partition) === tail) this.tails.delete(partition);
    });
    return run;
  }

  private async appendSerially(partition: number, entries: readonly LogEntry[], opts: AppendOptions): Promise<number[]> {
    const retryForMs = opts.retryForMs ?? this.retryForMs;
    const pending = this.unsettled.get(partition);
    if (pending !== undefined && entries.length > 0 && !opts.supersedesUnsettled && !settlesFirst(entries, pending)) {
      throw new AppendError('unsettled', `partition ${partition}: entry ${pending.msgID} failed unavailable and must be appended again before ${entries[0].msgID}`, []);
    }
    const subject = this.subject(partition);
    const stored: number[] = [];
    for (const [index, entry] of entries.entries()) {
      try {
        const { seq, before } = await this.publishWithRetry(subject, entry, retryForMs);
        stored.push(seq);
        if (before) opts.onDuplicate?.(index);
      } catch (e) {
        const err = e as ClusterError;
        if (err.code === 'unavailable') this.unsettled.set(partition, { msgID: entry.msgID, storedBefore: new Set(entries.slice(0, index).map((x) => x.msgID)) });
        throw new AppendError(err.code, `partition ${partition}, entry ${entry.msgID}: ${err.message}`, stored, { cause: err.cause });
      }
      this.unsettled.delete(partition);
    }
    return stored;
  }

  /**
   * Publishes one entry until it is acknowledged, the bound passes, or an error says retrying is
   * pointless; `before` when the first attempt found it stored already.
   */
  private async publishWithRetry(subject: string, entry: LogEntry, retryForMs: number): Promise<{ seq: number; before: boolean }> {
    const deadline = Date.now() + retryForMs;
    let backoff = BACKOFF_FIRST_MS;
    let attempts = 0;
    for (;;) {
      attempts++;
      // A short last attempt rather than one that overruns the caller's bound.
      const timeout = Math.max(100, Math.min(this.attemptTimeoutMs, deadline - Date.now()));
      let pause = backoff;
      try {
        const ack = await this.publishOnce(subject, entry, timeout);
        return { seq: ack.seq, before: ack.duplicate && attempts === 1 };
      } catch (e) {
        const kind = e instanceof Reconnected ? 'retry' : classify(e, this.conn);
        if (kind !== 'retry') throw new ClusterError(kind, describeError(e), { cause: e });
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new ClusterError('unavailable', `not stored within ${retryForMs} ms (${attempts} attempts; last: ${describeError(e)})`, { cause: e });
        }
        // Right after a reconnect the new connection is worth trying at once.
        pause = e instanceof Reconnected ? 0 : Math.min(backoff, remaining);
        backoff = e instanceof Reconnected ? BACKOFF_FIRST_MS : Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
      if (pause > 0) await sleep(pause);
    }
  }

  /**
   * One publish, answered with its sequence, or rejected with Reconnected if the connection
   * reconnects first: the publish was then most likely dropped with the old socket (nats.js does
   * not resend), or stored with its answer lost, which the same msgID makes safe to retry.
   */
  private async publishOnce(subject: string, entry: LogEntry, timeout: number): Promise<{ seq: number; duplicate: boolean }> {
    let stopWatching = () => {};
    const interrupted = new Promise<never>((_, reject) => {
      stopWatching = this.conn.onReconnect(() => reject(new Reconnected('reconnected while publishing')));
    });
    const started = performance.now();
    const attempt = this.conn.js.publish(subject, entry.data, { msgID: entry.msgID, timeout });
    // An attempt given up on at a reconnect still settles later: keep that from being unhandled.
    attempt.catch(() => {});
    try {
      const ack = await Promise.race([attempt, interrupted]);
      this.stats.acks++;
      this.stats.seconds += (performance.now() - started) / 1000;
      return { seq: ack.seq, duplicate: ack.duplicate };
    } finally {
      stopWatching();
    }
  }

  private checkInput(partition: number, entries: readonly LogEntry[]): ClusterError | undefined {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) {
      return new ClusterError('invalid', `partition must be an integer from 0 to ${this.partitions - 1}, got ${partition}`);
    }
    if (!Array.isArray(entries)) return new ClusterError('invalid', 'entries must be an array');
    for (const e of entries) {
      if (typeof e?.msgID !== 'string' || e.msgID === '') return new ClusterError('invalid', 'every entry needs a non-empty msgID');
      if (!(e.data instanceof Uint8Array)) return new ClusterError('invalid', `entry ${e.msgID}: data must be a Uint8Array`);
    }
    return undefined;
  }
}

/** Whether `entries` store the unsettled entry before anything its failed append had not stored. */
function settlesFirst(entries: readonly LogEntry[], pending: { msgID: string; storedBefore: Set<string> }): boolean {
  const at = entries.findIndex((e) => e.msgID === pending.msgID);
  return at >= 0 && entries.slice(0, at).every((e) => pending.storedBefore.has(e.msgID));
}

/** A publish attempt cut short by a reconnect. */
class Reconnected extends Error {}

/**
 * Whether a failed publish is worth repeating. Timeouts (a publish sent while disconnected is
 * dropped by the client and times out), no responders (no stream leader during a failover) and
 * server-side 5xx/404 answers (a leader or stream not known yet on a recovering node) are
 * transient; a 400 (message too large, bad header) or a closed connection is not.
 */
function classify(e: unknown, conn: ClusterConnection): 'retry' | 'rejected' | 'closed' {
  if (conn.nc.isClosed()) return 'closed';
  if (e instanceof JetStreamApiError) return e.apiError().code === 400 ? 'rejected' : 'retry';
  const name = e instanceof Error ? e.name : '';
  if (name === 'PermissionViolationError' || name === 'InvalidSubjectError' || name === 'InvalidArgumentError') return 'rejected';
  if (name === 'ClosedConnectionError' || name === 'DrainingConnectionError') return 'closed';
  return 'retry';
}

const PARTITIONS_NOTE = /partitions=(\d+)/;

/**
 * The partition count a cluster was created with is in its streams' descriptions: a node started
 * with another count would send events to partitions the others read under other keys.
 */
async function checkPartitionsOf(conn: ClusterConnection, stream: string, partitions: number): Promise<void> {
  const info = await conn.jsm.streams.info(stream);
  const found = PARTITIONS_NOTE.exec(info.config.description ?? '');
  if (found === null) {
    await conn.jsm.streams.update(stream, { description: describe(partitions) });
    return;
  }
  if (Number(found[1]) !== partitions) {
    throw new ClusterError('stream_mismatch', `cluster '${conn.names.cluster}' was created with ${found[1]} partitions (stream ${stream}); this node has ${partitions}: start it with --partitions ${found[1]}`);
  }
}

const describe = (partitions: number) => `omnistream, partitions=${partitions}`;

/** The stream as this code expects it. */
function streamConfig(conn: ClusterConnection, opts: EventLogOptions): Partial<StreamConfig> & { name: string; subjects: string[] } {
  return {
    name: opts.kind === 'changes' ? conn.names.changeStream : conn.names.eventStream,
    subjects: [opts.kind === 'changes' ? conn.names.changeSubjects : conn.names.eventSubjects],
    storage: StorageType.File,
    num_replicas: opts.replicas ?? 1,
    duplicate_window: (opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * NS_PER_MS,
    description: describe(opts.partitions),
  };
}

/**
 * Creates stream `want` if missing (retrying while a cluster elects leaders), or checks the one
 * there: other subjects or another replica count fail `stream_mismatch`; the limits a live stream
 * may change (`duplicate_window`, `max_msgs_per_subject`) are set to `want`'s. The lease stream
 * (leases.ts) is set up the same way.
 */
export async function ensureStream(conn: ClusterConnection, want: Partial<StreamConfig> & { name: string; subjects: string[] }, retryForMs: number): Promise<void> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      const info = await conn.jsm.streams.info(want.name).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (!info) {
        await conn.jsm.streams.add(want);
        return;
      }
      const subjects = info.config.subjects ?? [];
      if (subjects.join(',') !== want.subjects.join(',') || info.config.num_replicas !== want.num_replicas) {
        throw new ClusterError(
          'stream_mismatch',
          `stream ${want.name} exists with subjects [${subjects.join(', ')}] and ${info.config.num_replicas} replicas; expected [${want.subjects.join(', ')}] and ${want.num_replicas}`,
        );
      }
      const changed: Partial<StreamConfig> = {};
      for (const key of ['duplicate_window', 'max_msgs_per_subject'] as const) {
        if (want[key] !== undefined && info.config[key] !== want[key]) changed[key] = want[key];
      }
      if (Object.keys(changed).length > 0) await conn.jsm.streams.update(want.name, changed);
      return;
    } catch (e) {
      if (e instanceof ClusterError) throw e;
      // A fresh cluster answers 'insufficient resources' / times out until its servers have met.
      if (Date.now() >= deadline || conn.nc.isClosed()) {
        throw new ClusterError('unavailable', `could not create or check stream ${want.name}: ${describeError(e)}`, { cause: e });
      }
      await sleep(250);
    }
  }
}
