// Which sessions had an item: append-only chunks of `chunkSize` entries, the newest inline in the
// item's head and the older ones in a ring of `itemSessionsKept / chunkSize − 1` chunk records.
// An append rewrites the head only, plus one full chunk every `chunkSize` appends (moved out of
// the head, over the ring's oldest), so an item never holds more than `itemSessionsKept` sessions.

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../../staged-state.ts';
import type { ResolvedOptions } from './options.ts';
import { recKeys, type IndexChunk, type ItemHead } from './records.ts';

export function readHead(state: StateView, sku: string): ItemHead | undefined {
  return state.get<ItemHead>(recKeys.item(sku));
}

function ringSlots(o: ResolvedOptions): number {
  return o.itemSessionsKept / o.chunkSize - 1;
}

/** The head's index part after appending `session`; moves a full inline chunk out first. */
export function appendSession(
  state: StateEditor,
  sku: string,
  head: ItemHead | undefined,
  session: string,
  time: number,
  o: ResolvedOptions,
): Pick<ItemHead, 'n' | 's' | 't'> {
  if (head === undefined || head.n === 0) return { n: 1, s: [session], t: [time] };
  if (head.n % o.chunkSize !== 0) return { n: head.n + 1, s: [...head.s, session], t: [...head.t, time] };
  const slots = ringSlots(o);
  // The read arrays go into the chunk as they are: records are never edited in place.
  if (slots > 0) state.put(recKeys.chunk(sku, (head.n / o.chunkSize - 1) % slots), { s: head.s, t: head.t } satisfies IndexChunk);
  return { n: head.n + 1, s: [session], t: [time] };
}

/** Walks an item's kept entries newest first, reading each older chunk only when it gets there. */
export class EntryCursor {
  session = '';
  time = 0;
  done = false;
  private chunk: IndexChunk;
  /** The next older chunk's number, down to (not including) `stop`. */
  private c: number;
  private readonly stop: number;
  private readonly slots: number;
  private j: number;
  private left: number;

  /** At most `max` entries. */
  constructor(
    private readonly state: StateView,
    private readonly sku: string,
    head: ItemHead,
    max: number,
    o: ResolvedOptions,
  ) {
    this.chunk = head;
    this.j = head.s.length - 1;
    const newest = Math.floor((head.n - 1) / o.chunkSize);
    this.slots = ringSlots(o);
    this.c = newest - 1;
    this.stop = Math.max(-1, newest - 1 - this.slots);
    this.left = max;
    this.next();
  }

  /** Moves to the next older entry, or sets `done`. */
  next(): void {
    while (this.j < 0 && this.left > 0 && this.c > this.stop) {
      this.chunk = this.state.get<IndexChunk>(recKeys.chunk(this.sku, this.c % this.slots)) ?? EMPTY;
      this.c--;
      this.j = this.chunk.s.length - 1;
    }
    if (this.j < 0 || this.left <= 0) {
      this.done = true;
      return;
    }
    this.session = this.chunk.s[this.j];
    this.time = this.chunk.t[this.j];
    this.j--;
    this.left--;
  }
}

const EMPTY: IndexChunk = { s: [], t: [] };

/**
 * Erasure: every entry of `gone` sessions in the item's index (head and ring) is blanked in
 * place, not removed, so the chunk arithmetic (`n`, slots) stays as it was; a blank session has
 * no log, so the neighbour search skips it. Returns how many entries were blanked.
 */
export function blankSessions(state: StateEditor, sku: string, gone: ReadonlySet<string>, o: ResolvedOptions): number {
  let blanked = 0;
  const blank = (chunk: IndexChunk): IndexChunk | undefined => {
    if (!chunk.s.some((s) => gone.has(s))) return undefined;
    const s = chunk.s.map((id) => (gone.has(id) ? (blanked++, '') : id));
    return { s, t: chunk.t };
  };
  const head = readHead(state, sku);
  if (head === undefined) return 0;
  const headNext = blank(head);
  if (headNext !== undefined) state.put(recKeys.item(sku), { ...head, s: headNext.s } satisfies ItemHead);
  for (let slot = 0; slot < ringSlots(o); slot++) {
    const chunk = state.get<IndexChunk>(recKeys.chunk(sku, slot));
    const next = chunk === undefined ? undefined : blank(chunk);
    if (next !== undefined) state.put(recKeys.chunk(sku, slot), next);
  }
  return blanked;
}
