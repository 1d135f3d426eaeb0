// The dedup index: event id → first answer and the event's digest, kept for at least
// `retentionMs`. The digest tells a retry (same event: the first answer again) from an id
// reused for another event (refused `id_conflict`, as Stripe does for idempotency keys).
//
// Two generations, like log segments: answers are written to the current one; when it is
// `retentionMs` old, the other (whose newest entry is then at least that old) is cleared
// and becomes current. Expiry is one O(pages) drop instead of a per-entry index and sweep,
// and an entry lives between one and two retention periods.

import type { Database } from 'lmdb';
import type { StateStore, WriteSet } from './store.ts';

/** Each engine thread's generations and rotation clock are its own (one thread's rotation clears only its own). */
const metaKey = (slot: number) => (slot === 0 ? '$dedup' : `$dedup/${slot}`);
/** How many engine threads ever kept answers in this data dir: a retry may find its first answer in any of them. */
export const DEDUP_SLOTS_KEY = '$dedupSlots';
/**
 * Stored values: a plain `{ok:true}` answer, the common case, is its event's digest alone (a
 * number ≥ 1); any other answer is `[digest, answer]`. Entries written before digests were
 * kept are `0` (plain ok) or the answer object, and have no digest to compare.
 */
const PLAIN_OK_NO_DIGEST = 0;

interface DedupMeta {
  current: 0 | 1;
  rotatedAt: number;
}

export type StoredAnswer = Record<string, unknown>;

export interface FirstAnswer {
  answer: StoredAnswer;
  /** The first event's digest; undefined for an entry older than digests. */
  digest: number | undefined;
}

/** `{ok: true}` and nothing else (checked without allocating a key list). */
export function isPlainOk(answer: StoredAnswer): boolean {
  if (answer.ok !== true) return false;
  for (const k in answer) if (k !== 'ok') return false;
  return true;
}

function decode(v: unknown): FirstAnswer {
  if (typeof v === 'number') return { answer: { ok: true }, digest: v === PLAIN_OK_NO_DIGEST ? undefined : v };
  if (Array.isArray(v)) return { answer: plain(v[1]), digest: v[0] as number };
  return { answer: plain(v), digest: undefined };
}

/**
 * An answer the store rewrite redacted is a plain msgpack map (store-rewrite.ts: no shared
 * structure), which this database's decoder reads as a Map.
 */
const plain = (answer: unknown): StoredAnswer => (answer instanceof Map ? Object.fromEntries(answer) : answer) as StoredAnswer;

export class DedupIndex {
  private meta: DedupMeta;
  private readonly metaKey: string;
  /** Other engine threads' slots, now or in an earlier run with another thread count (their generations are asked of the store each time: a store rewrite reopens them). */
  private readonly otherSlots: number[];
  /** When each of `others` stops holding anything live: never for a thread running now (it rotates its own). */
  private readonly othersLiveUntil: number[];

  /**
   * `slot` is this engine thread (0 when it is the only one) and `slots` how many there are: an
   * event's answer is written by the thread applying its partition, and looked up there first.
   */
  constructor(
    private readonly store: StateStore,
    private readonly retentionMs: number,
    now: number,
    private readonly slot = 0,
    slots = 1,
  ) {
    this.metaKey = metaKey(slot);
    this.meta = store.durable.get<DedupMeta>(this.metaKey) ?? { current: 0, rotatedAt: now };
    const ever = Math.max(slots, store.durable.get<number>(DEDUP_SLOTS_KEY) ?? 1);
    this.otherSlots = [];
    this.othersLiveUntil = [];
    for (let s = 0; s < ever; s++) {
      if (s === slot) continue;
      this.otherSlots.push(s);
      // A thread of an earlier, larger thread count rotates no more: its answers are all older
      // than the retention two periods after its last rotation.
      const rotatedAt = s < slots ? undefined : store.durable.get<DedupMeta>(metaKey(s))?.rotatedAt;
      const until = rotatedAt === undefined ? Infinity : rotatedAt + 2 * retentionMs;
      this.othersLiveUntil.push(until, until);
    }
  }

  /** Stores the rotation clock on first open: restarts must not keep resetting it. */
  async open(): Promise<void> {
    if (this.store.durable.get<DedupMeta>(this.metaKey) === undefined) {
      await this.store.state.put(this.metaKey, this.meta);
    }
  }

  rotationDue(now: number): boolean {
    return now - this.meta.rotatedAt >= this.retentionMs;
  }

  /**
   * After two retention periods without a rotation (the process was down), even the current
   * generation holds only ids older than the retention: a batch before then would have rotated.
   */
  private allExpired(now: number): boolean {
    return now - this.meta.rotatedAt >= 2 * this.retentionMs;
  }

  private get generations(): [Database<unknown, string>, Database<unknown, string>] {
    const [a, b] = this.store.dedupGenerations(this.slot);
    return this.meta.current === 0 ? [a, b] : [b, a];
  }

  /** The first answer for this id, if it was committed within the retention window. */
  lookup(id: string, now: number): FirstAnswer | undefined {
    if (this.allExpired(now)) return undefined;
    const [current, previous] = this.generations;
    let v = current.get(id);
    // Once a rotation is due, everything in the previous generation is older than the
    // retention: it is as good as cleared even before the next batch clears it.
    if (v === undefined && !this.rotationDue(now)) v = previous.get(id);
    let found = v === undefined ? undefined : decode(v);
    // Applied by another engine thread (another partition, or this one under another thread
    // count): a running thread's entries expire by its own rotations; a thread that no longer
    // runs holds nothing live two retention periods after its last one (othersLiveUntil).
    // An event left pending here may have been answered by another thread since (the process
    // ran with another thread count): an answer there to the same event wins over the pending.
    for (let i = 0; (found === undefined || found.answer.pending === true) && i < 2 * this.otherSlots.length; i++) {
      if (now >= this.othersLiveUntil[i]) continue;
      const w = this.store.dedupGenerations(this.otherSlots[i >> 1])[i & 1].get(id);
      if (w === undefined) continue;
      const other = decode(w);
      if (found === undefined || (other.answer.pending !== true && other.digest === found.digest)) found = other;
    }
    return found;
  }

  record(set: WriteSet, id: string, digest: number, answer: StoredAnswer): void {
    set.dedupIds.push(id);
    set.dedupAnswers.push(isPlainOk(answer) ? digest : [digest, answer]);
    set.track?.note('dedup', id);
  }

  /** Rotates when due; the meta write goes in the same batch as the clear. */
  maybeRotate(set: WriteSet, now: number): (() => void) | undefined {
    if (!this.rotationDue(now)) return undefined;
    const [current, previous] = this.generations;
    const clearBoth = this.allExpired(now);
    this.meta = { current: this.meta.current === 0 ? 1 : 0, rotatedAt: now };
    this.store.write(set, this.metaKey, this.meta);
    return () => {
      void previous.clearAsync();
      if (clearBoth) void current.clearAsync();
    };
  }

  /** Called inside the batch's LMDB transaction. */
  writeAll(set: WriteSet): void {
    const [current] = this.generations;
    const { dedupIds, dedupAnswers } = set;
    for (let i = 0; i < dedupIds.length; i++) current.put(dedupIds[i], dedupAnswers[i]);
  }
}
