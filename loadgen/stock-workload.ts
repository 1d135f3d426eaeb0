// A realistic stock event stream for the benchmarks: N SKUs × L locations, SKU popularity
// Zipf(s=1) (or uniform), and a mix that is mostly receipts and sales with some reservations
// (later released or committed) and transfers. Deterministic for a given seed, so runs compare.

import type { InputEvent } from '../engine/mod.ts';

export type Distribution = 'zipf' | 'uniform';

export interface WorkloadOptions {
  skus: number;
  locations: number;
  dist: Distribution;
  seed?: number;
  /** Prefix of every event id this workload makes: ids never repeat across workloads with different prefixes. */
  idPrefix: string;
  /**
   * A release or commit only names a reservation made at least this many events earlier, so it
   * cannot overtake its reserve when batches travel concurrently (e.g. over C HTTP connections).
   */
  releaseLag?: number;
}

/** Share of each event type in the mix (sums to 1). */
export const MIX: ReadonlyArray<readonly [string, number]> = [
  ['stock.sold', 0.45],
  ['stock.received', 0.38],
  ['stock.reserve', 0.06],
  ['stock.release', 0.03],
  ['stock.commit', 0.03],
  ['stock.transfer', 0.05],
];

/** Units each row starts with (seed events), so sales and holds rarely run a row dry. */
export const SEED_QTY = 1000;

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples ranks 0..n-1 with P(k) ∝ 1/(k+1)^s by binary search over the cumulative weights. */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  constructor(n: number, s = 1) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k] /= sum;
  }
  sample(u: number): number {
    const c = this.cdf;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export const skuName = (i: number) => `SKU-${String(i).padStart(6, '0')}`;
export const locationName = (i: number) => `L${String(i).padStart(3, '0')}`;

/** Declares the locations: stores, with a warehouse every tenth. */
export function locationEvents(locations: number, idPrefix: string): InputEvent[] {
  return Array.from({ length: locations }, (_, i) => ({
    id: `${idPrefix}-loc-${i}`,
    type: 'location.upserted',
    location: locationName(i),
    kind: i % 10 === 9 ? 'warehouse' : 'store',
    lat: 30 + (i % 20) * 0.5,
    lon: 110 + Math.floor(i / 20) * 0.5,
    name: `Location ${i}`,
  }));
}

/** One stock.received of SEED_QTY per (sku, location) row, SKU-major. */
export function* seedEvents(skus: number, locations: number, idPrefix: string, qty = SEED_QTY): Generator<InputEvent> {
  for (let s = 0; s < skus; s++) {
    for (let l = 0; l < locations; l++) {
      yield { id: `${idPrefix}-seed-${s}-${l}`, type: 'stock.received', sku: skuName(s), location: locationName(l), qty };
    }
  }
}

/** Pulls up to `n` items from a generator into chunks of `size`. */
export function chunked<T>(items: Iterable<T>, size: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  for (const item of items) {
    cur.push(item);
    if (cur.length === size) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export class StockWorkload {
  private readonly rand: () => number;
  private readonly zipf: ZipfSampler | undefined;
  /** rank → SKU index, shuffled so the hot SKUs are spread over the key space. */
  private readonly skuOfRank: Int32Array;
  private readonly skuNames: string[];
  private readonly locNames: string[];
  private readonly cumulative: number[];
  private readonly open: Array<{ id: string; at: number }> = [];
  private openHead = 0;
  private n = 0;
  private resNo = 0;
  private trNo = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.rand = prng(options.seed ?? 42);
    this.zipf = options.dist === 'zipf' ? new ZipfSampler(options.skus, 1) : undefined;
    this.skuOfRank = new Int32Array(options.skus);
    for (let i = 0; i < options.skus; i++) this.skuOfRank[i] = i;
    for (let i = options.skus - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [this.skuOfRank[i], this.skuOfRank[j]] = [this.skuOfRank[j], this.skuOfRank[i]];
    }
    this.skuNames = Array.from({ length: options.skus }, (_, i) => skuName(i));
    this.locNames = Array.from({ length: options.locations }, (_, i) => locationName(i));
    let acc = 0;
    this.cumulative = MIX.map(([, share]) => (acc += share));
  }

  /** Events made so far. */
  get count(): number {
    return this.n;
  }

  private sku(): string {
    const rank = this.zipf ? this.zipf.sample(this.rand()) : Math.floor(this.rand() * this.options.skus);
    return this.skuNames[this.skuOfRank[rank]];
  }

  private loc(): number {
    return Math.floor(this.rand() * this.options.locations);
  }

  private qty(max: number): number {
    return 1 + Math.floor(this.rand() * max);
  }

  /** The oldest open reservation old enough to be ended, if any. */
  private takeReservation(): string | undefined {
    const lag = this.options.releaseLag ?? 0;
    const head = this.open[this.openHead];
    if (!head || this.n - head.at < lag) return undefined;
    this.openHead++;
    if (this.openHead > 4096 && this.openHead * 2 > this.open.length) {
      this.open.splice(0, this.openHead);
      this.openHead = 0;
    }
    return head.id;
  }

  next(): InputEvent {
    const id = `${this.options.idPrefix}-${this.n}`;
    const u = this.rand();
    let type = MIX[MIX.length - 1][0];
    for (let i = 0; i < this.cumulative.length; i++) {
      if (u < this.cumulative[i]) {
        type = MIX[i][0];
        break;
      }
    }
    let ev: InputEvent;
    switch (type) {
      case 'stock.sold':
        ev = { id, type, sku: this.sku(), location: this.locNames[this.loc()], qty: this.qty(3), channel: 'pos' };
        break;
      case 'stock.reserve': {
        const reservation = `${this.options.idPrefix}-r${this.resNo++}`;
        ev = { id, type, reservation, sku: this.sku(), location: this.locNames[this.loc()], qty: this.qty(2), channel: 'web' };
        this.open.push({ id: reservation, at: this.n });
        break;
      }
      case 'stock.release':
      case 'stock.commit': {
        const reservation = this.takeReservation();
        ev = reservation
          ? { id, type, reservation }
          : { id, type: 'stock.received', sku: this.sku(), location: this.locNames[this.loc()], qty: this.qty(10) };
        break;
      }
      case 'stock.transfer': {
        const from = this.loc();
        const to = (from + 1 + Math.floor(this.rand() * (this.options.locations - 1))) % this.options.locations;
        ev =
          from === to
            ? { id, type: 'stock.received', sku: this.sku(), location: this.locNames[from], qty: this.qty(10) }
            : { id, type, transfer: `${this.options.idPrefix}-t${this.trNo++}`, sku: this.sku(), from: this.locNames[from], to: this.locNames[to], qty: this.qty(2) };
        break;
      }
      default:
        ev = { id, type: 'stock.received', sku: this.sku(), location: this.locNames[this.loc()], qty: this.qty(10) };
    }
    this.n++;
    return ev;
  }

  /**
   * Takes back events that were made but never sent (a timed phase ended first): their
   * reservations must not be released or committed by later events.
   */
  forget(unsent: ReadonlyArray<ReadonlyArray<InputEvent>>): void {
    this.forgetReservations(unsent.flatMap(reservationsIn));
  }

  forgetReservations(ids: readonly string[]): void {
    const dropped = new Set(ids);
    if (dropped.size === 0) return;
    const kept = this.open.slice(this.openHead).filter((r) => !dropped.has(r.id));
    this.open.length = 0;
    this.open.push(...kept);
    this.openHead = 0;
  }

  /** `count` events in chunks of `size`. */
  chunks(count: number, size: number): InputEvent[][] {
    const out: InputEvent[][] = [];
    for (let made = 0; made < count; ) {
      const k = Math.min(size, count - made);
      const chunk = new Array<InputEvent>(k);
      for (let i = 0; i < k; i++) chunk[i] = this.next();
      out.push(chunk);
      made += k;
    }
    return out;
  }
}

/** The reservations a chunk of events opens. */
export function reservationsIn(chunk: ReadonlyArray<InputEvent>): string[] {
  const ids: string[] = [];
  for (const ev of chunk) if (ev.type === 'stock.reserve') ids.push(ev.reservation as string);
  return ids;
}

/** Counts answers that are not ok, by error code. */
export function countErrors(results: ReadonlyArray<{ ok: boolean; error?: { code: string } }>, into: Map<string, number>): number {
  let errors = 0;
  for (const r of results) {
    if (r.ok) continue;
    errors++;
    const code = r.error?.code ?? 'unknown';
    into.set(code, (into.get(code) ?? 0) + 1);
  }
  return errors;
}
