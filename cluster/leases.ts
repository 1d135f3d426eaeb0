// Partition ownership by leases in a JetStream stream of their own. Each partition has a subject,
// `<cluster>.lease.<p>`, whose last message is the partition's lease: {owner, epoch, expiresAt}.
//
// Every lease write of every node is a publish that expects the stream's last sequence to be the
// one the writer read before deciding, so all lease writes are serialised: two nodes that read
// the same state cannot both win, and the loser re-reads and decides again. On nats-server 2.9 a
// KV compare-and-set (the per-subject expected-sequence check) is not serialised on a
// three-server stream, and both of two concurrent updates often succeed; the stream-wide check
// is. Leases change a few times per ttl per node, so one conflict domain for all of them is cheap.
//
// Time: `expiresAt` is the holder's clock when it sent the write, plus the ttl. The holder stops
// treating the partition as its own a guard before that instant on its own clock; any other node
// takes the lease only once its clock is past expiresAt + maxClockSkewMs. Clocks that differ by
// less than maxClockSkewMs (NTP-synchronised machines differ by milliseconds) and a holder whose
// event loop is not blocked longer than the guard can therefore never both own a partition.

import { setTimeout as sleep } from 'node:timers/promises';
import { JetStreamApiError, StorageType } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { pack, unpack } from 'msgpackr';
import type { ClusterConnection } from './connection.ts';
import { ClusterError, checkPartitionCount, isNotFound } from './errors.ts';
import { ensureStream } from './event-log.ts';
import { clusterNames } from './names.ts';
import type { HeldLease, LeaseKeeperOptions, LeaseLossReason } from './types.ts';

/** The lease stream of the cluster named `omni` (the default). */
export const LEASE_STREAM = clusterNames().leaseStream;
/** The subject whose last message is partition `p`'s lease, in the cluster named `omni`. */
export const leaseSubject = (p: number) => clusterNames().leaseSubject(p);

/** Old lease records kept per partition: only the last is read; a few help when debugging. */
const HISTORY_PER_PARTITION = 8;
/** The server's code for "wrong last sequence": another lease write came first. */
const WRONG_LAST_SEQUENCE = 10071;
const RECORD_VERSION = 1;
const DEFAULT_TTL_MS = 10_000;
const DEFAULT_MAX_CLOCK_SKEW_MS = 1_000;
const DEFAULT_MAX_CLAIMS_PER_ROUND = 4;
const CONFLICTS_PER_ROUND = 8;
const RETRY_ROUND_MS = 200;
const STREAM_SETUP_MS = 15_000;

/** A lease as stored: the last message of the partition's subject, and its stream sequence. */
interface LeaseRecord {
  partition: number;
  /** '' once released. */
  owner: string;
  epoch: number;
  expiresAt: number;
  seq: number;
}

type WriteResult = { kind: 'stored'; seq: number } | { kind: 'conflict' } | { kind: 'unknown' };

/**
 * Msgpack, a small array rather than JSON: the engine already speaks msgpack, and a version
 * field lets the layout change. Leases are not on a hot path; the point is a strict decoder.
 */
function encodeLease(partition: number, owner: string, epoch: number, expiresAt: number): Uint8Array {
  return pack([RECORD_VERSION, partition, owner, epoch, expiresAt]);
}

/**
 * A record that is not a lease this code wrote counts as released, with its own stream sequence
 * as epoch: every epoch was set by a distinct earlier write, so it is below that sequence, and
 * the next owner's epoch still goes up.
 */
function decodeLease(partition: number, data: Uint8Array, seq: number): LeaseRecord {
  try {
    const v: unknown = unpack(data);
    if (Array.isArray(v) && v.length === 5 && v[0] === RECORD_VERSION && v[1] === partition && typeof v[2] === 'string' && Number.isSafeInteger(v[3]) && v[3] >= 0 && Number.isFinite(v[4])) {
      return { partition, owner: v[2] as string, epoch: v[3] as number, expiresAt: v[4] as number, seq };
    }
  } catch {}
  return { partition, owner: '', epoch: seq, expiresAt: 0, seq };
}

interface Held extends HeldLease {
  timer: NodeJS.Timeout;
}

/** One node's leases: takes the partitions it is asked to, renews them, reports gains and losses. */
export class LeaseKeeper {
  private readonly wanted = new Set<number>();
  private readonly held = new Map<number, Held>();
  private chain: Promise<unknown> = Promise.resolve();
  private roundTimer: NodeJS.Timeout | undefined;
  private wakeQueued = false;
  private releases: Subscription | undefined;
  private stopped = false;
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly skewMs: number;
  private readonly guardMs: number;
  private readonly maxClaims: number;
  private readonly writeTimeoutMs: number;

  private constructor(
    private readonly conn: ClusterConnection,
    private readonly opts: LeaseKeeperOptions,
  ) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.renewEveryMs = Math.floor(this.ttlMs / 3);
    this.skewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    // Covers a timer firing late on a busy event loop.
    this.guardMs = Math.min(250, Math.floor(this.ttlMs / 10));
    this.maxClaims = opts.maxClaimsPerRound ?? DEFAULT_MAX_CLAIMS_PER_ROUND;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? Math.min(2_000, Math.floor(this.ttlMs / 4));
  }

  /** Creates the lease stream if missing (or checks it) and starts the renewal rounds. */
  static async open(conn: ClusterConnection, opts: LeaseKeeperOptions): Promise<LeaseKeeper> {
    if (typeof opts.nodeId !== 'string' || opts.nodeId === '') throw new ClusterError('invalid', 'nodeId must be a non-empty string');
    checkPartitionCount(opts.partitions);
    const ttl = opts.ttlMs ?? DEFAULT_TTL_MS;
    const skew = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (!Number.isFinite(ttl) || ttl < 300) throw new ClusterError('invalid', `ttlMs must be at least 300, got ${ttl}`);
    if (!Number.isFinite(skew) || skew < 0 || skew >= ttl / 2) throw new ClusterError('invalid', `maxClockSkewMs must be from 0 to below ttlMs / 2, got ${skew}`);
    await ensureStream(
      conn,
      {
        name: conn.names.leaseStream,
        subjects: [conn.names.leaseSubjects],
        storage: StorageType.File,
        num_replicas: opts.replicas ?? 1,
        max_msgs_per_subject: HISTORY_PER_PARTITION,
      },
      STREAM_SETUP_MS,
    );
    const keeper = new LeaseKeeper(conn, opts);
    keeper.watchReleases();
    keeper.schedule(keeper.renewEveryMs);
    return keeper;
  }

  /** Adds `partitions` to those this node wants, and runs a round now: free or expired ones are taken (a few per round). */
  claim(partitions: readonly number[]): Promise<void> {
    const invalid = this.check(partitions);
    if (invalid) return Promise.reject(invalid);
    for (const p of partitions) this.wanted.add(p);
    return this.enqueue(() => this.round());
  }

  /**
   * Gives `partitions` up (default: every held one, and no more are wanted): reported lost at
   * once, then written free, so another node takes them without waiting for the expiry. For a
   * graceful shutdown, before stop().
   */
  release(partitions?: readonly number[]): Promise<void> {
    const invalid = partitions && this.check(partitions);
    if (invalid) return Promise.reject(invalid);
    const which = [...(partitions ?? this.held.keys())];
    if (partitions) for (const p of which) this.wanted.delete(p);
    else this.wanted.clear();
    return this.enqueue(() => this.releaseNow(which));
  }

  /** Whether the partition is this node's now, by its lease and this node's clock: ask before acting for it. */
  owns(partition: number): boolean {
    const h = this.held.get(partition);
    return h !== undefined && Date.now() < h.expiresAt - this.guardMs;
  }

  /**
   * Every partition's lease holder as the stream has it now ('' for a free or released one),
   * whichever node holds it: for reports (GET /v1/cluster), never for deciding to act.
   */
  async holders(): Promise<Array<{ partition: number; owner: string; expiresAt: number }>> {
    const { records } = await this.read(Array.from({ length: this.opts.partitions }, (_, p) => p));
    return Array.from({ length: this.opts.partitions }, (_, p) => {
      const rec = records.get(p);
      return { partition: p, owner: rec?.owner ?? '', expiresAt: rec?.expiresAt ?? 0 };
    });
  }

  /** The leases held, in partition order. */
  leases(): HeldLease[] {
    return [...this.held.values()].map(({ partition, epoch, expiresAt }) => ({ partition, epoch, expiresAt })).sort((a, b) => a.partition - b.partition);
  }

  /** Ends the rounds and reports every held partition lost (`stopped`) without writing anything: its leases run out. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.roundTimer);
    this.releases?.unsubscribe();
    await this.chain;
    for (const p of [...this.held.keys()]) this.lose(p, 'stopped');
  }

  private check(partitions: readonly number[]): ClusterError | undefined {
    if (this.stopped) return new ClusterError('closed', 'the lease keeper is stopped');
    if (!Array.isArray(partitions)) return new ClusterError('invalid', 'partitions must be an array');
    const bad = partitions.find((p) => !Number.isInteger(p) || p < 0 || p >= this.opts.partitions);
    return bad === undefined ? undefined : new ClusterError('invalid', `partition must be an integer from 0 to ${this.opts.partitions - 1}, got ${bad}`);
  }

  /**
   * Lease writes are also plain messages on their subjects: a release of a wanted partition seen
   * there starts a round at once, rather than at the next renewal. Only a hint (a write the
   * stream refused is delivered too): the round reads the stream before deciding.
   */
  private watchReleases(): void {
    const prefix = this.conn.names.leaseSubject(0).slice(0, -1);
    this.releases = this.conn.nc.subscribe(this.conn.names.leaseSubjects, {
      callback: (err, msg) => {
        const p = Number(msg?.subject.slice(prefix.length));
        if (err || !this.wanted.has(p) || this.held.has(p) || this.wakeQueued || this.stopped) return;
        if (decodeLease(p, msg.data, 0).owner !== '') return;
        this.wakeQueued = true;
        void this.enqueue(() => {
          this.wakeQueued = false;
          return this.round();
        }).catch(() => {});
      },
    });
  }

  /** Rounds and releases run one at a time: each decides on what it read, and writes expecting that. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => {});
    return run;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.roundTimer = setTimeout(() => {
      void this.enqueue(() => this.round()).then(
        () => this.schedule(this.renewEveryMs),
        () => this.schedule(RETRY_ROUND_MS),
      );
    }, delayMs);
  }

  /** Reads the leases that matter, renews what is held and takes what is wanted and free; on a conflict reads again. */
  private async round(): Promise<void> {
    if (this.stopped) return;
    try {
      for (let attempt = 0; attempt < CONFLICTS_PER_ROUND; attempt++) {
        const outcome = await this.act(await this.read([...new Set([...this.held.keys(), ...this.wanted])]));
        if (outcome === 'done' || this.stopped) return;
        // Two keepers that collided read again at once would likely collide again.
        await sleep(10 + Math.random() * 40);
      }
    } catch (e) {
      // A lease not renewed is reported lost by its deadline timer; the next round retries.
      this.opts.onError?.(e);
      throw e;
    }
  }

  private async act(view: { lastSeq: number; records: Map<number, LeaseRecord> }): Promise<'done' | 'conflict'> {
    let last = view.lastSeq;
    for (const [p, h] of [...this.held]) {
      const rec = view.records.get(p);
      if (rec?.owner !== this.opts.nodeId || rec.epoch !== h.epoch) {
        this.lose(p, 'superseded');
        continue;
      }
      // Renewed by a round moments ago (a claim right after a renewal): not again.
      if (h.expiresAt - Date.now() > this.ttlMs - this.renewEveryMs / 2) continue;
      const expiresAt = Date.now() + this.ttlMs;
      const result = await this.write(p, this.opts.nodeId, h.epoch, expiresAt, last);
      if (result.kind !== 'stored') return this.unsettled(result.kind, p);
      last = result.seq;
      this.hold(p, h.epoch, expiresAt, true);
    }
    let claims = 0;
    const now = Date.now();
    for (const p of this.wanted) {
      if (claims >= this.maxClaims) break;
      const rec = view.records.get(p);
      // A record naming this node that it does not hold is from a write whose answer was lost (or
      // from this node before a restart): taking it over with a new epoch is safe.
      if (this.held.has(p) || (rec && rec.owner !== '' && rec.owner !== this.opts.nodeId && now <= rec.expiresAt + this.skewMs)) continue;
      claims++;
      const epoch = (rec?.epoch ?? 0) + 1;
      const expiresAt = Date.now() + this.ttlMs;
      const result = await this.write(p, this.opts.nodeId, epoch, expiresAt, last);
      if (result.kind !== 'stored') return this.unsettled(result.kind, p);
      last = result.seq;
      this.hold(p, epoch, expiresAt, false);
      this.opts.onGained?.(p, epoch);
    }
    return 'done';
  }

  /** A conflict means read again; an unknown outcome fails the round, and the next one comes soon. */
  private unsettled(kind: 'conflict' | 'unknown', partition: number): 'conflict' {
    if (kind === 'unknown') throw new ClusterError('unavailable', `lease write for partition ${partition}: outcome unknown, the lease could not be read back`);
    return 'conflict';
  }

  private async releaseNow(partitions: number[]): Promise<void> {
    const mine = new Map<number, number>();
    for (const p of partitions) {
      const h = this.held.get(p);
      if (!h) continue;
      mine.set(p, h.epoch);
      this.lose(p, 'released');
    }
    for (let attempt = 0; attempt < CONFLICTS_PER_ROUND && mine.size > 0; attempt++) {
      const view = await this.read([...mine.keys()]);
      let last = view.lastSeq;
      let conflict = false;
      for (const [p, epoch] of [...mine]) {
        const rec = view.records.get(p);
        if (rec?.owner !== this.opts.nodeId || rec.epoch !== epoch) {
          mine.delete(p);
          continue;
        }
        const result = await this.write(p, '', epoch, 0, last);
        if (result.kind === 'conflict') {
          conflict = true;
          break;
        }
        // Unknown: the lease expires by itself if the write did not land.
        mine.delete(p);
        if (result.kind === 'stored') last = result.seq;
      }
      if (!conflict) return;
    }
  }

  /** The stream's last sequence, read first, then the leases: a write expecting it fails if any of them changed since. */
  private async read(partitions: number[]): Promise<{ lastSeq: number; records: Map<number, LeaseRecord> }> {
    const lastSeq = (await this.conn.jsm.streams.info(this.conn.names.leaseStream)).state.last_seq;
    const records = new Map<number, LeaseRecord>();
    await Promise.all(
      partitions.map(async (p) => {
        const rec = await this.readOne(p);
        if (rec) records.set(p, rec);
      }),
    );
    return { lastSeq, records };
  }

  /** Through the stream leader (not a direct get, which a replica may answer from behind). */
  private async readOne(partition: number): Promise<LeaseRecord | undefined> {
    const m = await this.conn.jsm.streams.getMessage(this.conn.names.leaseStream, { last_by_subj: this.conn.names.leaseSubject(partition) }).catch((e: unknown) => {
      if (isNotFound(e)) return null;
      throw e;
    });
    return m ? decodeLease(partition, m.data, m.seq) : undefined;
  }

  /**
   * One lease write expecting the stream's last sequence `last`. A write that failed otherwise
   * (timeout, no responders, a reconnect) may still have been stored: the lease is read back, and
   * is ours if it is exactly what was written.
   */
  private async write(partition: number, owner: string, epoch: number, expiresAt: number, last: number): Promise<WriteResult> {
    try {
      const ack = await this.conn.js.publish(this.conn.names.leaseSubject(partition), encodeLease(partition, owner, epoch, expiresAt), {
        expect: { lastSequence: last },
        timeout: this.writeTimeoutMs,
      });
      return { kind: 'stored', seq: ack.seq };
    } catch (e) {
      if (e instanceof JetStreamApiError && e.apiError().err_code === WRONG_LAST_SEQUENCE) return { kind: 'conflict' };
      const seen = await this.readOne(partition).catch(() => 'unreadable' as const);
      if (seen === 'unreadable') return { kind: 'unknown' };
      if (seen && seen.owner === owner && seen.epoch === epoch && seen.expiresAt === expiresAt) return { kind: 'stored', seq: seen.seq };
      // Not there (yet): read everything again and decide again; if it lands after all, it names
      // this node without this node holding it, and a later round takes it over.
      return { kind: 'conflict' };
    }
  }

  /** Holds (or extends) a lease until a guard before it runs out, unless renewed by then. */
  private hold(partition: number, epoch: number, expiresAt: number, renewal: boolean): void {
    const before = this.held.get(partition);
    // A deadline passed while the renewal was under way: the partition was reported lost, and
    // stays so (a later round may take it again, as a gain with a new epoch).
    if (renewal && before?.epoch !== epoch) return;
    clearTimeout(before?.timer);
    const timer = setTimeout(() => this.lose(partition, 'expiring'), Math.max(0, expiresAt - this.guardMs - Date.now()));
    this.held.set(partition, { partition, epoch, expiresAt, timer });
  }

  private lose(partition: number, reason: LeaseLossReason): void {
    const h = this.held.get(partition);
    if (!h) return;
    clearTimeout(h.timer);
    this.held.delete(partition);
    this.opts.onLost?.(partition, reason);
  }
}
