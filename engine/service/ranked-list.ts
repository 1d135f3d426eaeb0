// A sorted list stored as small records: a header per list and chunks of at most `chunkMax`
// entries (CHUNK_MAX unless the caller picks a size), each entry (key, id, aux) ordered by key then id. An insert or removal rewrites the
// header and one chunk, so a lane of 50,000 waiting requests costs a ~10 KB header and a
// ~10 KB chunk per change instead of one 1.5 MB record; the head is one header and one chunk read.
// `aux` is summarised per chunk as its minimum (requests: the oldest enqueue time).

import type { StateView } from '../types.ts';

export const CHUNK_MAX = 256;

export interface ListHeader {
  n: number;
  /** Number of the next chunk created (chunk numbers are never reused within a list). */
  next: number;
  /** Per chunk, in list order: its number, first key, first id, size and minimum aux. */
  nos: number[];
  firstKeys: number[];
  firstIds: string[];
  counts: number[];
  minAux: number[];
}

export interface ListChunk {
  ids: string[];
  keys: number[];
  aux: number[];
}

/** Copy-on-write access to records: `edit` returns this change's own copy, made on first use. */
export interface RecordEditor extends StateView {
  edit<T>(key: string, copy: (value: T) => T): T | undefined;
  put(key: string, value: unknown): void;
}

const chunkKey = (list: string, no: number) => `svc/chunk/${no}/${list}`;

const copyHeader = (h: ListHeader): ListHeader => ({
  n: h.n,
  next: h.next,
  nos: h.nos.slice(),
  firstKeys: h.firstKeys.slice(),
  firstIds: h.firstIds.slice(),
  counts: h.counts.slice(),
  minAux: h.minAux.slice(),
});
const copyChunk = (c: ListChunk): ListChunk => ({ ids: c.ids.slice(), keys: c.keys.slice(), aux: c.aux.slice() });

const less = (k1: number, i1: string, k2: number, i2: string) => k1 < k2 || (k1 === k2 && i1 < i2);

/** The chunk that holds (or would hold) an entry: the last whose first entry is not after it. */
function chunkFor(h: ListHeader, key: number, id: string): number {
  let lo = 0;
  let hi = h.nos.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (less(key, id, h.firstKeys[mid], h.firstIds[mid])) hi = mid - 1;
    else lo = mid;
  }
  return lo;
}

/** First position in a chunk whose entry is not before (key, id). */
function lowerBound(c: ListChunk, key: number, id: string): number {
  let lo = 0;
  let hi = c.ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (less(c.keys[mid], c.ids[mid], key, id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function minOf(values: number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

export function insert(s: RecordEditor, list: string, id: string, key: number, aux: number, chunkMax = CHUNK_MAX): void {
  let h = s.edit<ListHeader>(list, copyHeader);
  if (!h) {
    h = { n: 0, next: 0, nos: [], firstKeys: [], firstIds: [], counts: [], minAux: [] };
    s.put(list, h);
  }
  h.n++;
  if (h.nos.length === 0) {
    const no = h.next++;
    s.put(chunkKey(list, no), { ids: [id], keys: [key], aux: [aux] });
    h.nos.push(no);
    h.firstKeys.push(key);
    h.firstIds.push(id);
    h.counts.push(1);
    h.minAux.push(aux);
    return;
  }
  const j = chunkFor(h, key, id);
  const c = s.edit<ListChunk>(chunkKey(list, h.nos[j]), copyChunk)!;
  const at = lowerBound(c, key, id);
  c.ids.splice(at, 0, id);
  c.keys.splice(at, 0, key);
  c.aux.splice(at, 0, aux);
  h.counts[j]++;
  if (aux < h.minAux[j]) h.minAux[j] = aux;
  if (at === 0) {
    h.firstKeys[j] = key;
    h.firstIds[j] = id;
  }
  if (c.ids.length > chunkMax) split(s, list, h, j, c);
}

function split(s: RecordEditor, list: string, h: ListHeader, j: number, c: ListChunk): void {
  const half = c.ids.length >> 1;
  const right: ListChunk = { ids: c.ids.splice(half), keys: c.keys.splice(half), aux: c.aux.splice(half) };
  const no = h.next++;
  s.put(chunkKey(list, no), right);
  h.counts[j] = c.ids.length;
  h.minAux[j] = minOf(c.aux);
  h.nos.splice(j + 1, 0, no);
  h.firstKeys.splice(j + 1, 0, right.keys[0]);
  h.firstIds.splice(j + 1, 0, right.ids[0]);
  h.counts.splice(j + 1, 0, right.ids.length);
  h.minAux.splice(j + 1, 0, minOf(right.aux));
}

/** Removes the entry (key, id); false when the list does not hold it. */
export function remove(s: RecordEditor, list: string, id: string, key: number): boolean {
  const current = s.get<ListHeader>(list);
  if (!current || current.n === 0) return false;
  const j0 = chunkFor(current, key, id);
  const c0 = s.get<ListChunk>(chunkKey(list, current.nos[j0]))!;
  const at = lowerBound(c0, key, id);
  if (c0.ids[at] !== id) return false;
  const h = s.edit<ListHeader>(list, copyHeader)!;
  h.n--;
  if (h.n === 0) {
    s.put(chunkKey(list, h.nos[j0]), undefined);
    s.put(list, undefined);
    return true;
  }
  if (h.counts[j0] === 1) {
    s.put(chunkKey(list, h.nos[j0]), undefined);
    for (const arr of [h.nos, h.firstKeys, h.firstIds, h.counts, h.minAux]) arr.splice(j0, 1);
    return true;
  }
  const c = s.edit<ListChunk>(chunkKey(list, h.nos[j0]), copyChunk)!;
  const [removedAux] = c.aux.splice(at, 1);
  c.ids.splice(at, 1);
  c.keys.splice(at, 1);
  h.counts[j0]--;
  if (at === 0) {
    h.firstKeys[j0] = c.keys[0];
    h.firstIds[j0] = c.ids[0];
  }
  if (removedAux === h.minAux[j0]) h.minAux[j0] = minOf(c.aux);
  return true;
}

/** The first entry, in order, that `accept` takes; reads chunks only as far as it goes. */
export function find(view: StateView, list: string, accept: (id: string) => boolean): { id: string; key: number } | undefined {
  const h = view.get<ListHeader>(list);
  if (!h) return undefined;
  for (const no of h.nos) {
    const c = view.get<ListChunk>(chunkKey(list, no))!;
    for (let i = 0; i < c.ids.length; i++) if (accept(c.ids[i])) return { id: c.ids[i], key: c.keys[i] };
  }
  return undefined;
}

/** The first `n` ids in order, reading only the chunks that hold them. */
export function head(view: StateView, list: string, n: number): string[] {
  const h = view.get<ListHeader>(list);
  const out: string[] = [];
  for (const no of h?.nos ?? []) {
    if (out.length >= n) break;
    const c = view.get<ListChunk>(chunkKey(list, no))!;
    for (let i = 0; i < c.ids.length && out.length < n; i++) out.push(c.ids[i]);
  }
  return out;
}

/** Entries before (key, id): its 0-based position, read from the header and one chunk. */
export function rankOf(view: StateView, list: string, id: string, key: number): number | undefined {
  const h = view.get<ListHeader>(list);
  if (!h) return undefined;
  const j = chunkFor(h, key, id);
  const c = view.get<ListChunk>(chunkKey(list, h.nos[j]))!;
  const at = lowerBound(c, key, id);
  if (c.ids[at] !== id) return undefined;
  let before = at;
  for (let i = 0; i < j; i++) before += h.counts[i];
  return before;
}

/** The smallest aux in the list (Infinity when empty), from the header alone. */
export function minAuxOf(view: StateView, list: string): number {
  const h = view.get<ListHeader>(list);
  return h ? minOf(h.minAux) : Infinity;
}

/** Every entry in order (listings and tests; routing uses `find`). */
export function entries(view: StateView, list: string): Array<{ id: string; key: number; aux: number }> {
  const h = view.get<ListHeader>(list);
  const out: Array<{ id: string; key: number; aux: number }> = [];
  for (const no of h?.nos ?? []) {
    const c = view.get<ListChunk>(chunkKey(list, no))!;
    for (let i = 0; i < c.ids.length; i++) out.push({ id: c.ids[i], key: c.keys[i], aux: c.aux[i] });
  }
  return out;
}
