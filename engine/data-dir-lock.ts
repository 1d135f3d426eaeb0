// One owner per data dir. Two processes on one LMDB dir would both acknowledge events and
// disagree; after a restart one side's acknowledged events would be gone while their ids still
// answer "duplicate". So the engine takes the dir before anything in it is read and keeps it until
// close(); any other process is refused, told which pid holds it.
//
// Node has no flock(), so ownership is written into the dir as a numbered series of symlinks,
// `omni.lock.<n>`, whose target text is the record:
//   pid=<pid> start=<ticks> boot=<boot id> pidns=<pid namespace> since=<ISO time>   taken by that process
//   free since=<ISO time>                                                           released by a clean close
// A symlink is created with its whole text in one call that fails if the name exists (as O_EXCL
// does), so no reader ever sees a half-written record. The highest number is the one that counts.
// An entry from an earlier boot is stale (start times count from boot). Otherwise:
//   - Our pid namespace (or no `pidns=`, as written before it existed): alive if its pid exists with
//     the same start time (field 22 of /proc/<pid>/stat, so a reused pid is not mistaken for it).
//   - Another pid namespace (containers sharing one volume each number their processes from 1):
//     /proc here cannot show that holder, so its pid says nothing. It holds a lease instead: each
//     check renews its entry by setting the symlink's own modification time (lutimes, one call
//     that changes no text and no name, unlike a companion file that would need its own creating
//     and removing), and the entry is alive until LEASE_MS passes without a renewal. So a holder
//     killed hard there blocks starts here for up to LEASE_MS; one in our namespace is stale at once.
// The namespace is the text of /proc/self/ns/pid, e.g. `pid:[4026531836]`. (This tells apart the
// containers of one host; hosts sharing a network filesystem are not supported.)
//
// Why a series and not one lock file: taking over one stale file means deleting it and creating
// a new one, and "delete it if it is still the stale one" is not atomic — a second process that
// read the same stale file may delete the first one's fresh lock, and both go on. A guard file
// around the takeover only moves the problem: a guard left by a kill -9 is stale in turn and needs
// the same unsafe delete. Here nobody ever deletes or changes the text of the highest entry:
//   - To take the dir, a process creates entry max+1 exclusively, having read entry max (free,
//     stale, or none at all). Of processes that read the same max, exactly one creates max+1; the
//     others get EEXIST, look again, find that one alive (its entry is new, so its lease is fresh
//     too), and are refused. Whether each judged max stale by /proc or by its lease only decides
//     who tries; who wins is decided by the exclusive create alone.
//   - The creator of n then lists the dir again. An entry above n means n was taken from an old
//     listing (numbers below the highest are deleted, so an old one can be created again): n was
//     never the highest; it is dropped and the process starts over. Otherwise n is the highest and
//     stays so until someone creates n+1, which only a process that found n's owner gone does.
//   - A clean close writes `free` as n+1 (another exclusive create) rather than deleting n, so the
//     highest number never goes down and an old listing can never make a number the highest again.
//   - Entries below the highest are history, deleted by the winner.
//   - A renewal only sets the time of the holder's own entry, once it found it still the highest;
//     one landing just after a takeover touches an entry that is history.
// A kill -9 at any step leaves at worst an entry naming a dead process: stale, taken over by the
// next start like any other. Without /proc (not Linux) a pid that exists counts as alive.
//
// What the lease adds: a live holder in another namespace that has not renewed for LEASE_MS
// (stopped, stalled, renewals failing, the wall clock stepped forward) can be taken over; it sees
// the newer entry at its next check and stops, as when its entry is removed by hand. A renewal
// time in the future (the clock stepped back) counts as fresh: refused, never two owners.

import { existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Canonical numbers only: `omni.lock.07` would be read as 7 and then looked for as `omni.lock.7`. */
const ENTRY = /^omni\.lock\.(0|[1-9]\d{0,14})$/;
const OWNER = /^pid=([1-9]\d{0,9}) start=(\d+|\?) boot=([\w-]+|\?)(?: pidns=(pid:\[\d+\]|\?))? since=(\S+)$/;
/** Rounds of "look, create, verify" before giving up; each lost round means another process won one. */
const ATTEMPTS = 50;
// How long an entry from another pid namespace counts as alive after its last renewal (so how long
// a start waits after another container's holder was killed hard). Several checks, each renewing,
// fit in it, so a holder busy for a moment is not taken over; slower checks are refused.
const LEASE_MS = 10_000;
const CHECK_EVERY_MS = 2000;
const MAX_CHECK_EVERY_MS = LEASE_MS / 4;
const HAS_PROC = existsSync('/proc/self/stat');

export interface DataDirHolder {
  pid: number;
  /** When it took the dir (ISO time). */
  since: string;
  /** The holder is this very process (another engine opened on the same dir and not closed). */
  self: boolean;
  /** Set when the holder runs in another pid namespace (another container): `pid` is its number there. */
  pidNamespace?: string;
  /** With pidNamespace: how long its lease still runs unless renewed. */
  leaseLeftMs?: number;
}

export class DataDirInUseError extends Error {
  readonly code = 'data_dir_in_use';
  constructor(
    readonly dir: string,
    readonly holder: DataDirHolder,
  ) {
    super(`data dir ${dir} is in use by ${describeHolder(holder)}`);
    this.name = 'DataDirInUseError';
  }
}

export class DataDirLockLostError extends Error {
  readonly code = 'data_dir_lock_lost';
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(`data dir ${dir} is no longer owned by this process (${reason}); stopping so that two processes never write it`);
    this.name = 'DataDirLockLostError';
  }
}

export interface DataDirLockOptions {
  /** How often a held lock checks it is still ours and renews its lease (0: only by `check()`). */
  checkEveryMs?: number;
}

function describeHolder({ pid, self, since, pidNamespace, leaseLeftMs = 0 }: DataDirHolder): string {
  if (pidNamespace === undefined) return `pid ${pid}${self ? ' (this process)' : ''} (started ${since})`;
  return `pid ${pid} in another pid namespace, ${pidNamespace} (started ${since}; if that process is gone, the dir is free in ${(leaseLeftMs / 1000).toFixed(1)} s)`;
}

interface OwnerRecord {
  kind: 'owner';
  pid: number;
  start: string;
  boot: string;
  /** `?` when not known (records written before namespaces were recorded): judged as ours. */
  pidns: string;
  since: string;
  /** The entry's own modification time: its creation or its holder's last renewal. */
  renewedAtMs: number;
}
/** What an entry says; `unreadable` (not a symlink, or text we never write) counts as stale. */
type EntryRecord = OwnerRecord | { kind: 'free' } | { kind: 'unreadable' };

export class DataDirLock {
  /** How long an entry from another pid namespace stays alive without a renewal. */
  static readonly leaseMs = LEASE_MS;
  #state: 'held' | 'lost' | 'released' = 'held';
  #timer: NodeJS.Timeout | undefined;
  readonly #lostListeners = new Set<(error: DataDirLockLostError) => void>();

  /**
   * Takes the dir (creating it if missing) or throws DataDirInUseError, having written nothing,
   * when a live process holds it.
   */
  static acquire(dir: string, options: DataDirLockOptions = {}): DataDirLock {
    const checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
    if (!(checkEveryMs >= 0 && checkEveryMs <= MAX_CHECK_EVERY_MS)) {
      throw new RangeError(`checkEveryMs must be between 0 and ${MAX_CHECK_EVERY_MS} (the lease lasts ${LEASE_MS} ms), not ${checkEveryMs}`);
    }
    const path = resolve(dir);
    mkdirSync(path, { recursive: true });
    const record = ownRecord();
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const top = highestEntry(path);
      if (top > 0) {
        const current = readEntry(path, top);
        // Deleted between listing and reading: someone took the dir meanwhile; look again.
        if (current === undefined) continue;
        if (current.kind === 'owner' && ownerAlive(current)) throw new DataDirInUseError(path, holderOf(current));
      }
      const mine = top + 1;
      if (!createEntry(path, mine, record)) continue;
      if (highestEntry(path) > mine) {
        removeEntry(path, mine);
        continue;
      }
      for (const n of entryNumbers(path)) if (n < mine) removeEntry(path, n);
      return new DataDirLock(path, mine, record, checkEveryMs);
    }
    throw new Error(`data dir ${path}: its lock entries kept changing while taking it (${ATTEMPTS} tries); try again`);
  }

  private constructor(
    readonly dir: string,
    /** The number of this owner's entry, `omni.lock.<entry>`. */
    readonly entry: number,
    private readonly record: string,
    checkEveryMs: number,
  ) {
    if (checkEveryMs > 0) {
      this.#timer = setInterval(() => this.check(), checkEveryMs);
      this.#timer.unref();
    }
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  /** Called once if the dir stops being ours while held (entry removed, replaced or overtaken). */
  onLost(listener: (error: DataDirLockLostError) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Checks now that the dir is still ours and renews its lease; false (listeners told) if not. */
  check(): boolean {
    if (this.#state !== 'held') return false;
    const reason = this.lossReason();
    if (reason === undefined) {
      this.renew();
      return true;
    }
    this.#state = 'lost';
    clearInterval(this.#timer);
    const error = new DataDirLockLostError(this.dir, reason);
    for (const listener of this.#lostListeners) listener(error);
    return false;
  }

  /** Hands the dir back: the next process to start takes it at once. Does nothing if lost. */
  release(): void {
    clearInterval(this.#timer);
    if (this.#state !== 'held') return;
    this.#state = 'released';
    try {
      // EEXIST here means someone took the dir over already; our entry is history either way.
      createEntry(this.dir, this.entry + 1, `free since=${new Date().toISOString()}`);
      removeEntry(this.dir, this.entry);
    } catch (error) {
      // The dir itself is gone: nothing left to hand back.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /** Only after lossReason() found the entry ours and the highest: see the header comment. */
  private renew(): void {
    const now = new Date();
    try {
      lutimesSync(join(this.dir, entryName(this.entry)), now, now);
    } catch {
      // Removed meanwhile: the next check says so. Else (EMFILE under load) it retries; should that
      // keep failing, another pid namespace takes over after the lease and a check reports it.
    }
  }

  private lossReason(): string | undefined {
    const name = entryName(this.entry);
    let text: string | undefined;
    let top: number;
    try {
      text = readlinkOrUndefined(join(this.dir, name));
      top = highestEntry(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'the data dir was removed';
      // Anything else (say EMFILE under load) says nothing about ownership: check next time.
      return undefined;
    }
    if (text === undefined) return `its lock entry ${name} was removed`;
    if (text !== this.record) return `its lock entry ${name} was replaced`;
    if (top <= this.entry) return undefined;
    const newer = readEntry(this.dir, top);
    return newer?.kind === 'owner' ? `pid ${newer.pid} took it over (${entryName(top)})` : `a newer lock entry ${entryName(top)} appeared`;
  }
}

/** This process's record; the start time and boot id tell a reused pid from us. */
function ownRecord(): string {
  return `pid=${process.pid} start=${ownStart()} boot=${bootId()} pidns=${ownPidNamespace()} since=${new Date().toISOString()}`;
}

function ownStart(): string {
  const stat = HAS_PROC ? procStat(process.pid) : undefined;
  return typeof stat === 'object' ? stat.start : '?';
}

/** Only for a live holder. */
function holderOf({ pid, since, start, pidns, ...record }: OwnerRecord): DataDirHolder {
  if (!inOtherPidNamespace(pidns)) return { pid, since, self: pid === process.pid && start === ownStart() };
  return { pid, since, self: false, pidNamespace: pidns, leaseLeftMs: Math.max(0, LEASE_MS - leaseAge(record)) };
}

function inOtherPidNamespace(pidns: string): boolean {
  return pidns !== '?' && ownPidNamespace() !== '?' && pidns !== ownPidNamespace();
}

/** Negative when the renewal time is in the future (the clock stepped back): fresh, see the header. */
function leaseAge({ renewedAtMs }: Pick<OwnerRecord, 'renewedAtMs'>): number {
  return Date.now() - renewedAtMs;
}

function ownerAlive(record: OwnerRecord): boolean {
  const boot = bootId();
  // Start times count from boot: after a reboot every recorded pid is gone.
  if (record.boot !== '?' && boot !== '?' && record.boot !== boot) return false;
  if (inOtherPidNamespace(record.pidns)) return leaseAge(record) < LEASE_MS;
  if (HAS_PROC) {
    const stat = procStat(record.pid);
    if (stat === 'gone') return false;
    if (stat !== undefined) {
      // A zombie has exited; only its parent has not collected it yet.
      if (stat.state === 'Z' || stat.state === 'X') return false;
      return record.start === '?' || record.start === stat.start;
    }
  }
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

interface ProcStat {
  state: string;
  start: string;
}

/** `gone` when no such process; undefined when /proc does not say (hidden, unreadable). */
function procStat(pid: number): ProcStat | 'gone' | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
  }
  // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (start time, clock ticks since boot) is fields[19].
  if (fields.length < 20 || !/^\d+$/.test(fields[19])) return undefined;
  return { state: fields[0], start: fields[19] };
}

// Read once: neither the boot nor a process's own pid namespace ever changes (setns and unshare
// only move its children). `?` when not known, and then never compared.
const bootId = readOnce(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), /^[\w-]+$/);
const ownPidNamespace = readOnce(() => readlinkSync('/proc/self/ns/pid', 'utf8'), /^pid:\[\d+\]$/);

function readOnce(read: () => string, shape: RegExp): () => string {
  let value: string | undefined;
  return () => (value ??= readOrUnknown(read, shape));
}

function readOrUnknown(read: () => string, shape: RegExp): string {
  try {
    const text = read();
    return shape.test(text) ? text : '?';
  } catch {
    return '?';
  }
}

function entryName(n: number): string {
  return `omni.lock.${n}`;
}

function entryNumbers(dir: string): number[] {
  const numbers: number[] = [];
  for (const name of readdirSync(dir)) {
    const match = ENTRY.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers;
}

function highestEntry(dir: string): number {
  return entryNumbers(dir).reduce((a, b) => Math.max(a, b), 0);
}

/** undefined when the entry no longer exists. */
function readEntry(dir: string, n: number): EntryRecord | undefined {
  const path = join(dir, entryName(n));
  let text: string | undefined;
  try {
    text = readlinkOrUndefined(path);
  } catch (error) {
    // EINVAL: not a symlink — nothing this module wrote.
    if ((error as NodeJS.ErrnoException).code === 'EINVAL') return { kind: 'unreadable' };
    throw error;
  }
  if (text === undefined) return undefined;
  if (text === 'free' || text.startsWith('free ')) return { kind: 'free' };
  const match = OWNER.exec(text);
  if (!match) return { kind: 'unreadable' };
  // After the text: a renewal between the two only makes the holder look more alive, as it is.
  const renewedAtMs = lstatSync(path, { throwIfNoEntry: false })?.mtimeMs;
  if (renewedAtMs === undefined) return undefined;
  return { kind: 'owner', pid: Number(match[1]), start: match[2], boot: match[3], pidns: match[4] ?? '?', since: match[5], renewedAtMs };
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** false when the entry exists already (another process created it first). */
function createEntry(dir: string, n: number, text: string): boolean {
  try {
    symlinkSync(text, join(dir, entryName(n)));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function removeEntry(dir: string, n: number): void {
  try {
    unlinkSync(join(dir, entryName(n)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
