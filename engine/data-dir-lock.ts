// One owner per data dir. Two processes on one LMDB dir would both acknowledge events and
// disagree; after a restart one side's acknowledged events would be gone while their ids still
// answer "duplicate". So the engine takes the dir before anything in it is read and keeps it until
// close(); any other process is refused, told which pid holds it.
//
// Node has no flock(), so ownership is written into the dir as a numbered series of symlinks,
// `omni.lock.<n>`, whose target text is the record:
//   pid=<pid> start=<ticks> boot=<boot id> since=<ISO time>   taken by that process
//   free since=<ISO time>                                      released by a clean close
// A symlink is created with its whole text in one call that fails if the name exists (as O_EXCL
// does), so no reader ever sees a half-written record. The highest number is the one that counts.
// Its holder is alive if its pid exists with the same start time (field 22 of /proc/<pid>/stat,
// so a reused pid is not mistaken for it) on the same boot; otherwise the entry is stale.
//
// Why a series and not one lock file: taking over one stale file means deleting it and creating
// a new one, and "delete it if it is still the stale one" is not atomic — a second process that
// read the same stale file may delete the first one's fresh lock, and both go on. A guard file
// around the takeover only moves the problem: a guard left by a kill -9 is stale in turn and needs
// the same unsafe delete. Here nobody ever deletes or changes the highest entry:
//   - To take the dir, a process creates entry max+1 exclusively, having read entry max (free,
//     stale, or none at all). Of processes that read the same max, exactly one creates max+1; the
//     others get EEXIST, look again, find that one alive, and are refused.
//   - The creator of n then lists the dir again. An entry above n means n was taken from an old
//     listing (numbers below the highest are deleted, so an old one can be created again): n was
//     never the highest; it is dropped and the process starts over. Otherwise n is the highest and
//     stays so until someone creates n+1, which only a process that found n's owner gone does.
//   - A clean close writes `free` as n+1 (another exclusive create) rather than deleting n, so the
//     highest number never goes down and an old listing can never make a number the highest again.
//   - Entries below the highest are history, deleted by the winner.
// A kill -9 at any step leaves at worst an entry naming a dead process: stale, taken over by the
// next start like any other. Without /proc (not Linux) a pid that exists counts as alive.

import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ENTRY = /^omni\.lock\.(\d{1,15})$/;
const OWNER = /^pid=([1-9]\d{0,9}) start=(\d+|\?) boot=([\w-]+|\?) since=(\S+)$/;
/** Rounds of "look, create, verify" before giving up; each lost round means another process won one. */
const ATTEMPTS = 50;
const CHECK_EVERY_MS = 2000;
const HAS_PROC = existsSync('/proc/self/stat');

export interface DataDirHolder {
  pid: number;
  /** When it took the dir (ISO time). */
  since: string;
  /** The holder is this very process (another engine opened on the same dir and not closed). */
  self: boolean;
}

export class DataDirInUseError extends Error {
  readonly code = 'data_dir_in_use';
  constructor(
    readonly dir: string,
    readonly holder: DataDirHolder,
  ) {
    super(`data dir ${dir} is in use by pid ${holder.pid}${holder.self ? ' (this process)' : ''} (started ${holder.since})`);
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
  /** How often a held lock checks it is still ours (0: only when `check()` is called). */
  checkEveryMs?: number;
}

interface OwnerRecord {
  kind: 'owner';
  pid: number;
  start: string;
  boot: string;
  since: string;
}
/** What an entry says; `unreadable` (not a symlink, or text we never write) counts as stale. */
type EntryRecord = OwnerRecord | { kind: 'free' } | { kind: 'unreadable' };

export class DataDirLock {
  #state: 'held' | 'lost' | 'released' = 'held';
  #timer: NodeJS.Timeout | undefined;
  readonly #lostListeners = new Set<(error: DataDirLockLostError) => void>();

  /**
   * Takes the dir (creating it if missing) or throws DataDirInUseError, having written nothing,
   * when a live process holds it.
   */
  static acquire(dir: string, options: DataDirLockOptions = {}): DataDirLock {
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
      return new DataDirLock(path, mine, record, options.checkEveryMs ?? CHECK_EVERY_MS);
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

  /** Checks now that the dir is still ours; false (and the lost listeners told) when it is not. */
  check(): boolean {
    if (this.#state !== 'held') return false;
    const reason = this.lossReason();
    if (reason === undefined) return true;
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
  return `pid=${process.pid} start=${ownStart()} boot=${bootId()} since=${new Date().toISOString()}`;
}

function ownStart(): string {
  const stat = HAS_PROC ? procStat(process.pid) : undefined;
  return typeof stat === 'object' ? stat.start : '?';
}

/** Only for a live holder. */
function holderOf(record: OwnerRecord): DataDirHolder {
  return { pid: record.pid, since: record.since, self: record.pid === process.pid && record.start === ownStart() };
}

function ownerAlive(record: OwnerRecord): boolean {
  const boot = bootId();
  // Start times count from boot: after a reboot every recorded pid is gone.
  if (record.boot !== '?' && boot !== '?' && record.boot !== boot) return false;
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

let cachedBootId: string | undefined;
function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || '?';
    } catch {
      cachedBootId = '?';
    }
  }
  return cachedBootId;
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
  let text: string | undefined;
  try {
    text = readlinkOrUndefined(join(dir, entryName(n)));
  } catch (error) {
    // EINVAL: not a symlink — nothing this module wrote.
    if ((error as NodeJS.ErrnoException).code === 'EINVAL') return { kind: 'unreadable' };
    throw error;
  }
  if (text === undefined) return undefined;
  if (text === 'free' || text.startsWith('free ')) return { kind: 'free' };
  const match = OWNER.exec(text);
  if (!match) return { kind: 'unreadable' };
  return { kind: 'owner', pid: Number(match[1]), start: match[2], boot: match[3], since: match[4] };
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
