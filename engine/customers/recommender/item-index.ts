// Which sessions had an item: an append-only ring of fixed-size chunks per item, so an update
// rewrites one chunk of at most `chunkSize` entries and an item never holds more than
// `itemSessionsKept` sessions (the oldest chunk is overwritten when the ring wraps).

import type { StateView } from '../../types.ts';
import type { StateEditor } from '../editor.ts';
import type { ResolvedOptions } from './options.ts';
import { recKeys, type IndexChunk, type ItemHead } from './records.ts';

export function readHead(state: StateView, sku: string): ItemHead | undefined {
  return state.get<ItemHead>(recKeys.item(sku));
}

/** Appends `session` as the item's entry number `seq` (the head's `n`, which the caller bumps). */
export function appendSession(state: StateEditor, sku: string, seq: number, session: string, time: number, o: ResolvedOptions): void {
  const slots = o.itemSessionsKept / o.chunkSize;
  const key = recKeys.chunk(sku, Math.floor(seq / o.chunkSize) % slots);
  let next: IndexChunk;
  if (seq % o.chunkSize === 0) {
    // A fresh chunk; when the ring has wrapped this drops the oldest chunk in the same write.
    next = { s: [session], t: [time] };
  } else {
    const prev = state.get<IndexChunk>(key);
    next = prev === undefined ? { s: [session], t: [time] } : { s: [...prev.s, session], t: [...prev.t, time] };
  }
  state.put(key, next);
}

/**
 * The item's kept entries, newest first, at most `max` of them, pushed onto `sessions`/`times`.
 * Stops reading chunks once it has enough.
 */
export function recentSessions(
  state: StateView,
  sku: string,
  head: ItemHead,
  max: number,
  o: ResolvedOptions,
  sessions: string[],
  times: number[],
): void {
  if (head.n === 0 || max <= 0) return;
  const slots = o.itemSessionsKept / o.chunkSize;
  const newest = Math.floor((head.n - 1) / o.chunkSize);
  let taken = 0;
  for (let c = newest; c >= 0 && c > newest - slots; c--) {
    const chunk = state.get<IndexChunk>(recKeys.chunk(sku, c % slots));
    if (chunk === undefined) continue;
    for (let j = chunk.s.length - 1; j >= 0; j--) {
      sessions.push(chunk.s[j]);
      times.push(chunk.t[j]);
      if (++taken >= max) return;
    }
  }
}
