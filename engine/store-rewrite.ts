// The store rewrite ("scrub"): after a batch that removes personal data (Effects.scrub) commits,
// the data dir's LMDB file is replaced by a fresh one holding only the live records, so no freed
// page (nor the free gap of a live page) keeps a copy of what was deleted. Why a logical copy and
// not LMDB's compacting copy or per-customer keys: docs/architecture.md, "Erasure and the store
// files".
//
// The steps, and what a kill -9 at each leaves:
//   1. The batch commits with a marker (`$scrub/pending`, one per engine thread) in the state.
//      Killed from here on: the next start finds the marker and rewrites before taking events.
//   2. Every named database's every entry is copied raw (keys and values as bytes, so each
//      codec's encoding is kept as it is) into `<dir>/scrub.tmp/`, the markers left out, a new
//      generation id put in. A kept answer (dedup index) whose bytes hold an erased value (the
//      markers list them) is copied redacted instead. Killed: a start deletes `scrub.tmp/` (and the marker is still there).
//   3. Every LMDB handle on the data dir is closed; the copy is fsynced and renamed over
//      `data.mdb` (atomic), the dir fsynced. Killed before the rename: as 2; after: the new file
//      is the store, already without markers, and `scrub.tmp/` is deleted at the next start.
//   4. Every handle opens the new file and reads the generation back: lmdb-js shares one native
//      environment per file per process and closes it only when its last handle closes, so a
//      handle left open would keep the old file mapped. A generation that does not match stops
//      the engine (like a failed commit) rather than letting it write to a file nobody reads.

import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { Packr } from 'msgpackr';
import { lmdbOptions, type StateStore } from './store.ts';

/** Where the copy is built; a start that finds it deletes it (a rewrite killed half-way). */
export const REWRITE_DIR = 'scrub.tmp';
const MARKER = '$scrub/pending';
/** Engine thread `slot`'s marker: each writes its own key, as it does for every key it commits. */
export const scrubMarkerKey = (slot: number): string => (slot === 0 ? MARKER : `${MARKER}/${slot}`);
/** The id the last rewrite gave the file: read back by every handle after it reopens. */
const STORE_GENERATION_KEY = '$store/generation';
/** Entries per write transaction of the copy; the event loop turns between them (sockets, reads). */
const COPY_CHUNK = 20_000;

export type RewriteStep = 'paused' | 'copying' | 'copied' | 'closed' | 'renamed' | 'reopened';
/**
 * Called at each step of a rewrite in this thread: crash tests kill the process there
 * (test/fixtures/rewrite-crasher.ts). Unset, nothing happens.
 */
export const rewriteProbe: { step?: (step: RewriteStep) => void } = {};
export const probe = (step: RewriteStep): void => rewriteProbe.step?.(step);

/** Deletes what a rewrite killed before its rename left behind. */
export function removeUnfinishedRewrite(dir: string): void {
  rmSync(join(dir, REWRITE_DIR), { recursive: true, force: true });
}

/** Whether a committed batch asked for a rewrite that has not happened yet (the marker of any engine thread). */
export function rewritePending(root: RootDatabase): boolean {
  const state = root.openDB<unknown, string>({ name: 'state' });
  for (const key of state.getKeys({ start: MARKER, end: `${MARKER}\uffff` })) if (key.startsWith(MARKER)) return true;
  return false;
}

/**
 * Step 2: copies every live entry of `source` (an open handle on the data dir, not written to
 * meanwhile) into a fresh environment in `<dir>/scrub.tmp/`, flushed and closed. Returns the
 * generation id written into the copy.
 */
export async function copyLiveEntries(source: RootDatabase, options: { path: string; mapSize?: number }): Promise<string> {
  removeUnfinishedRewrite(options.path);
  const generation = randomUUID();
  // No fsync per transaction: the file is fsynced once, before the rename (swapInCopy).
  const { keys: markerKeys, erased } = markersOf(source);
  const target = open(lmdbOptions({ path: join(options.path, REWRITE_DIR), durability: 'none', mapSize: options.mapSize }));
  try {
    // The root database lists the named ones; nothing else is ever written to it.
    for (const name of [...source.getKeys()] as string[]) {
      const from = source.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
      const to = target.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });
      const markers = name === 'state' ? markerKeys : new Set<string>();
      const redact = DEDUP_DB.test(name) && erased.length > 0 ? answerRedactor(source.openDB<unknown, string>({ name }), erased) : undefined;
      let chunk: Array<[Buffer, Buffer]> = [];
      const write = () => {
        const entries = chunk;
        chunk = [];
        target.transactionSync(() => {
          for (const [key, value] of entries) to.putSync(key, value);
        });
      };
      let copied = 0;
      for (const { key, value } of from.getRange()) {
        if (key[0] === 0x24 && markers.has(key.toString('latin1'))) continue; // '$'
        chunk.push([Buffer.from(key), redact?.(key, value) ?? Buffer.from(value)]);
        copied++;
        if (chunk.length >= COPY_CHUNK) {
          write();
          await new Promise(setImmediate);
        }
      }
      write();
      probe('copying');
      // A range that missed entries (an encoding the raw range skips) would lose records silently.
      const expected = (from.getStats() as { entryCount: number }).entryCount - markers.size;
      if (copied !== expected) throw new Error(`store rewrite: copied ${copied} entries of database '${name}', which holds ${expected}`);
    }
    target.openDB<string, string>({ name: 'state' }).putSync(STORE_GENERATION_KEY, generation);
  } finally {
    await target.close();
  }
  probe('copied');
  return generation;
}

/**
 * The markers present, as the raw key bytes read as latin1 (the state keys are ordered-binary
 * strings: their UTF-8), and the erased values they hold (engine-rewrites.ts: a marker of a batch
 * that named none is `true`).
 */
function markersOf(source: RootDatabase): { keys: Set<string>; erased: Buffer[] } {
  const state = source.openDB<unknown, string>({ name: 'state' });
  const keys = new Set<string>();
  const values = new Set<string>();
  for (const { key, value } of state.getRange({ start: MARKER, end: `${MARKER}\uffff` })) {
    if (!key.startsWith(MARKER)) continue;
    keys.add(Buffer.from(key, 'utf8').toString('latin1'));
    if (Array.isArray(value)) for (const v of value) if (typeof v === 'string' && v !== '') values.add(v);
  }
  return { keys, erased: [...values].map((v) => Buffer.from(v, 'utf8')) };
}

/** The dedup generations of every engine thread (store.ts, dedupGenerations). */
const DEDUP_DB = /^dedup[01](\.\d+)?$/;
/**
 * Plain msgpack maps, no shared structures (the copy is raw: it could not add one to a
 * database's structures safely), which the dedup index's decoder reads like any other value.
 */
const plainPackr = new Packr({ useRecords: false });
const REDACTED = { ok: true, redacted: true };

/**
 * A kept answer holding an erased value becomes `{ok: true, redacted: true}`, its digest kept (so a
 * retry is still a duplicate, and an id reused for another event still a conflict); undefined
 * keeps the entry as it is. The digest is read through the database's own decoder.
 */
function answerRedactor(decoded: { get(id: string): unknown }, erased: readonly Buffer[]) {
  return (key: Buffer, value: Buffer): Buffer | undefined => {
    if (!erased.some((v) => value.includes(v))) return undefined;
    const stored = decoded.get(key.toString('utf8'));
    const digest = Array.isArray(stored) && typeof stored[0] === 'number' ? stored[0] : undefined;
    return Buffer.from(plainPackr.pack(digest === undefined ? REDACTED : [digest, REDACTED]));
  };
}

/** Step 3, once no handle on the data dir is open: the copy becomes `data.mdb`. */
export function swapInCopy(dir: string): void {
  const copy = join(dir, REWRITE_DIR, 'data.mdb');
  if (!existsSync(copy)) throw new Error(`store rewrite: ${copy} is missing`);
  fsyncPath(copy);
  renameSync(copy, join(dir, 'data.mdb'));
  fsyncPath(dir);
  probe('renamed');
  removeUnfinishedRewrite(dir);
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Step 4: the handle reads the generation the copy was given, and (where /proc shows it) no
 * mapping of the replaced file is left in this process; else the engine must stop.
 */
export function checkGeneration(read: (key: string) => unknown, generation: string, dir: string): void {
  const found = read(STORE_GENERATION_KEY);
  if (found !== generation) throw new Error(`store rewrite: the reopened store is generation ${String(found)}, not ${generation}`);
  if (oldFileMapped(dir)) throw new Error(`store rewrite: the replaced ${join(dir, 'data.mdb')} is still mapped: an LMDB handle on it was left open`);
}

/** A renamed-over file still mapped shows in /proc/self/maps as its path marked `(deleted)`. */
function oldFileMapped(dir: string): boolean {
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return false;
  }
  const file = `${realpathSync(dir)}/data.mdb (deleted)`;
  return maps.split('\n').some((line) => line.endsWith(file));
}

/**
 * A whole rewrite on a data dir nobody has open (at start, when a marker was found): opened,
 * copied, closed, swapped in. True when one was due.
 */
export async function rewriteIfPending(options: Parameters<typeof lmdbOptions>[0]): Promise<boolean> {
  removeUnfinishedRewrite(options.path);
  if (!existsSync(join(options.path, 'data.mdb'))) return false;
  const root = open(lmdbOptions(options));
  let generation: string | undefined;
  try {
    if (rewritePending(root)) generation = await copyLiveEntries(root, options);
  } finally {
    await root.close();
  }
  if (generation === undefined) return false;
  swapInCopy(options.path);
  return true;
}

/**
 * Steps 2 to 4 on a store this engine holds open, between batches (paused, or starting): the
 * other handles on the dir, if any, are the caller's to close before and reopen after.
 */
export async function rewriteOpenStore(store: StateStore, options: { path: string; mapSize?: number }): Promise<void> {
  probe('paused');
  const generation = await copyLiveEntries(store.root, options);
  await store.close();
  probe('closed');
  swapInCopy(options.path);
  store.reopen();
  checkGeneration((key) => store.state.get(key), generation, options.path);
  probe('reopened');
}
