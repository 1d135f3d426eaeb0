// Keyed state over LMDB with two in-memory layers:
//   pending   — values written by batches that are applied but not yet durable;
//   committed — decoded values as of the last durable batch (a bounded cache in two
//               generations: a value read again while in the older one moves to the young
//               one, and the older one is dropped whole when the young one fills — so keys
//               read over and over (a popular SKU's index) stay while one-off keys pass through).
// Processors read the latest (pending first); queries and snapshots read only what is
// durable, so nothing a client sees can vanish in a crash.

import { open, type Database, type RootDatabase } from 'lmdb';
import type { PartitionTrack } from './partition-track.ts';
import type { Durability, StateView } from './types.ts';

const ABSENT = Symbol('absent');
const DELETED = Symbol('deleted');
/**
 * Longest key a read looks up: LMDB keys are at most 1978 bytes, and a UTF-16 unit takes at most
 * 3 bytes of UTF-8. Ours stay below: ids are at most 128 characters (256 units) and a key joins
 * at most two of them.
 */
export const MAX_KEY_CHARS = 659;
type Cached = unknown | typeof ABSENT;

export interface StoreOptions {
  path: string;
  durability: Durability;
  cacheEntries: number;
  mapSize?: number;
  /**
   * Engines on other threads commit to this environment too, each its own keys: a value read
   * from LMDB and not written by this store is kept only until the read snapshot is renewed
   * (another thread may change it); values this store wrote are cached as usual.
   */
  shared?: boolean;
}

/** The writes one batch makes; committed in one LMDB transaction. */
export class WriteSet {
  readonly state = new Map<string, unknown>();
  readonly timers = new Map<string, TimerRecord | undefined>();
  readonly dedupIds: string[] = [];
  readonly dedupAnswers: unknown[] = [];
  /** Derived events stored (a value) or applied (undefined) by this batch: the outbox. */
  readonly outbox = new Map<string, unknown>();
  /** Which partition each write belongs to, while a replicator is set (changelog.ts). */
  track: PartitionTrack | undefined;
  constructor(readonly batch: number) {}
}

export interface TimerRecord {
  at: number;
  processor: string;
  id: string;
  data: unknown;
  /** The partition whose event set it: what it emits comes from there. */
  partition?: number;
}

/** How the data dir's environment is opened: the same from every thread that opens it. */
export function lmdbOptions(options: { path: string; durability?: Durability; mapSize?: number }) {
  return {
    path: options.path,
    // fsync: LMDB's own synchronous commit, so a commit's promise means flushed. (lmdb-js's
    //   overlapping sync resolves `flushed` only when its write thread goes idle, which under
    //   steady load delays every answer; measured in docs/benchmarks.md.)
    // commit: overlapping sync — answered at commit, flushed in the background; after an OS
    //   crash lmdb-js reopens at the last flushed commit.
    // none: no fsync.
    overlappingSync: options.durability === 'commit',
    noSync: options.durability === 'none',
    // Always a directory: lmdb-js would otherwise take a path with a dot in its last part
    // (`mktemp -d` names such as tmp.Ab3x) for a single-file database and fail on it.
    noSubdir: false,
    mapSize: options.mapSize ?? 64 * 1024 ** 3,
    // state, timers, outbox, and two dedup generations per engine thread (dedupGenerations).
    maxDbs: 64,
    commitDelay: 0,
  };
}

/** State entries, and the bytes the environment uses: its last page bounds them (freed pages included). */
export function stateStats(root: RootDatabase, state: Database<unknown, string>): { entries: number; bytes: number } {
  const s = state.getStats() as { entryCount: number };
  const env = root.getStats() as { pageSize: number; lastPageNumber: number };
  return { entries: s.entryCount, bytes: env.lastPageNumber * env.pageSize };
}

export class StateStore {
  // Not readonly: a store rewrite (store-rewrite.ts) closes them and opens the new file.
  root!: RootDatabase;
  state!: Database<unknown, string>;
  timers!: Database<TimerRecord, string>;
  /** Derived events emitted by a committed batch and not yet applied (Effects.emit). */
  outbox!: Database<unknown, string>;
  /** Each engine thread's two dedup generations (dedup.ts), by thread: opened when first asked for. */
  private readonly dedupDbs = new Map<number, [Database<unknown, string>, Database<unknown, string>]>();
  /** Uncommitted values by key, with the batch that wrote them (DELETED marks a removal). */
  private readonly pending = new Map<string, { value: unknown; batch: number }>();
  private committed = new Map<string, Cached>();
  private older = new Map<string, Cached>();
  /** `shared`: values read from LMDB under the current read snapshot, not written by this store. */
  private readonly snapshotReads = new Map<string, Cached>();

  constructor(private readonly options: StoreOptions) {
    this.openHandles();
  }

  private openHandles(): void {
    this.root = open(lmdbOptions(this.options));
    this.state = this.root.openDB<unknown, string>({ name: 'state' });
    this.timers = this.root.openDB<TimerRecord, string>({ name: 'timers' });
    this.outbox = this.root.openDB<unknown, string>({ name: 'outbox' });
    this.dedupDbs.clear();
  }

  /**
   * After a store rewrite put a new file in place (store-rewrite.ts): every handle opens it, and
   * the cached values, read from the old one, go. Only between batches: nothing may be pending.
   */
  reopen(): void {
    if (this.pending.size > 0) throw new Error('the store was reopened with uncommitted writes');
    this.openHandles();
    this.committed.clear();
    this.older.clear();
    this.snapshotReads.clear();
  }

  /** The dedup generations of engine thread `slot` (names without a suffix for the first: older dirs have them). */
  dedupGenerations(slot = 0): [Database<unknown, string>, Database<unknown, string>] {
    let dbs = this.dedupDbs.get(slot);
    if (!dbs) {
      const suffix = slot === 0 ? '' : `.${slot}`;
      dbs = [this.root.openDB<unknown, string>({ name: `dedup0${suffix}` }), this.root.openDB<unknown, string>({ name: `dedup1${suffix}` })];
      this.dedupDbs.set(slot, dbs);
    }
    return dbs;
  }

  /** Sees what other threads committed since: their keys are read from LMDB again (`shared`). */
  refreshReads(): void {
    this.root.resetReadTxn();
    this.snapshotReads.clear();
  }

  /** The latest value, uncommitted writes included: what processors see. */
  readonly latest: StateView = {
    get: <T>(key: string): T | undefined => {
      const p = this.pending.get(key);
      if (p !== undefined) return (p.value === DELETED ? undefined : p.value) as T | undefined;
      return this.readCommitted(key) as T | undefined;
    },
  };

  /** State as of the last durable batch: what queries and snapshots see. */
  readonly durable: StateView = {
    get: <T>(key: string): T | undefined => this.readCommitted(key) as T | undefined,
  };

  /** `pin`: cache it even when `shared` (a key this store is about to write is its own). */
  private readCommitted(key: string, pin = false): unknown {
    // Nothing longer was ever written; LMDB would refuse the key.
    if (key.length > MAX_KEY_CHARS) return undefined;
    let v = this.committed.get(key);
    if (v === undefined) {
      v = this.older.get(key);
      if (v !== undefined) this.older.delete(key);
      // Not pending (else it would be cached, see write), so LMDB holds the durable value.
      else {
        // Maybe another thread's key: kept only until the read snapshot is renewed (refreshReads),
        // so within one batch it is read from LMDB once (a location, read by every stock event).
        if (this.options.shared && !pin) {
          let r = this.snapshotReads.get(key);
          if (r === undefined) this.snapshotReads.set(key, (r = this.state.get(key) ?? ABSENT));
          return r === ABSENT ? undefined : r;
        }
        v = this.state.get(key) ?? ABSENT;
      }
      this.committed.set(key, v);
      if (this.committed.size > this.generationSize) this.rotate();
    }
    return v === ABSENT ? undefined : v;
  }

  write(set: WriteSet, key: string, value: unknown): void {
    // Pin the durable value before the first uncommitted write, so that `durable` never
    // has to read LMDB for a key whose newer value may be committed but not yet released.
    const wasPending = this.pending.has(key);
    this.pending.set(key, { value: value === undefined ? DELETED : value, batch: set.batch });
    // Marked pending first, so a generation dropped by this read keeps the pin (rotate).
    if (!wasPending) this.readCommitted(key, true);
    set.state.set(key, value);
    set.track?.note('state', key);
  }

  /** Queues the batch's writes as one atomic LMDB transaction; resolves when durable. */
  commit(set: WriteSet, extra: () => void): Promise<unknown> {
    const promise = this.root.batch(() => {
      for (const [key, value] of set.state) {
        if (value === undefined) this.state.remove(key);
        else this.state.put(key, value);
      }
      for (const [key, rec] of set.timers) {
        if (rec === undefined) this.timers.remove(key);
        else this.timers.put(key, rec);
      }
      for (const [key, value] of set.outbox) {
        if (value === undefined) this.outbox.remove(key);
        else this.outbox.put(key, value);
      }
      extra();
    }) as Promise<unknown>;
    return promise;
  }

  /** After the batch is durable: its values become the committed view. */
  release(set: WriteSet): void {
    // lmdb-js resets its read snapshot after commits on a later turn; do it now so that
    // reads of keys leaving `pending` see this batch.
    this.root.resetReadTxn();
    for (const [key, value] of set.state) {
      // The older generation may hold the previous value: the young one shadows it until dropped.
      this.committed.set(key, value === undefined ? ABSENT : value);
      // Only if no later batch wrote the key since: values cannot tell (a key deleted,
      // re-created and deleted again looks the same), batch numbers can.
      if (this.pending.get(key)?.batch === set.batch) this.pending.delete(key);
    }
    if (this.committed.size > this.generationSize) this.rotate();
  }

  private get generationSize(): number {
    return Math.max(1, Math.floor(this.options.cacheEntries / 2));
  }

  /** The young generation becomes the older one; the older one is dropped, except its pins. */
  private rotate(): void {
    const dropped = this.older;
    this.older = this.committed;
    this.committed = new Map();
    // A pending key's durable value must stay cached (see write): LMDB may already hold a
    // newer, committed but unreleased, value.
    for (const key of this.pending.keys()) {
      if (this.older.has(key)) continue;
      const v = dropped.get(key);
      if (v !== undefined) this.committed.set(key, v);
    }
  }

  stats(): { entries: number; bytes: number } {
    return stateStats(this.root, this.state);
  }

  async close(): Promise<void> {
    await this.root.flushed;
    await this.root.close();
  }
}
