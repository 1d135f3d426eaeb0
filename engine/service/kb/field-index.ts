// An inverted index over the three fields of a knowledge-base entry, scored with BM25+ as
// MiniSearch scored it (the library this replaced; its parameters, field boosts and the weights
// of prefix and typo expansions are kept, so the threshold chosen on the labelled questions still
// holds; sums are taken in another order, so a score's last bits may differ), but built for the
// one question a match asks: which two entries score highest.
//
// MiniSearch built a result object (score, matched terms, matched fields) for every entry holding
// any query word and sorted them all; at 10,000 entries that allocation, its garbage and the sort
// were most of a match's time, and adding an entry walked a radix tree once per word. Here a match
// sums into typed arrays indexed by slot and keeps the best two in one pass; exact lookups go
// through a Map and only the vocabulary (each distinct term once) is kept in a radix tree, for the
// prefix look-ups of words no entry holds.

import SearchableMap from 'minisearch/SearchableMap';
import { TypoIndex } from './typo-index.ts';

/** BM25+ as MiniSearch defaults it: term saturation k, length normalisation b, floor d. */
const K = 1.2;
const B = 0.7;
const D = 0.5;
/** The weight of a term found only by prefix or by edit distance (MiniSearch's defaults). */
const PREFIX_WEIGHT = 0.375;
const FUZZY_WEIGHT = 0.45;

export const FIELD_COUNT = 3;

/** The query terms a match records per slot, as bits of two words; terms.ts lets a text have 48. */
const MAX_QUERY_TERMS = 64;

/** Each distinct term of a text with how often it occurs, in order of first occurrence. */
export function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/**
 * The entries holding a term in one field: slots and occurrences side by side, in the order the
 * entries were added (which decides ties, as MiniSearch's insertion-ordered maps did). Arrays,
 * not a Map: a match walks them, and removing an entry (rare) may scan one.
 */
interface FieldPostings {
  slots: number[];
  counts: number[];
}

/** Per field. */
type Postings = Array<FieldPostings | undefined>;

/** One query word and how far to look around it when no entry holds it. */
export interface QueryTerm {
  term: string;
  /** Also the longer terms it begins. */
  prefix: boolean;
  /** Also the terms one edit away (a letter added, dropped or changed): a typo. */
  typo: boolean;
}

export interface TopTwo {
  best: number;
  bestScore: number;
  /** 0 when no second entry was accepted. */
  secondScore: number;
  /** The query terms (by position) that found `best`, exactly or approximately. */
  bestTerms: boolean[];
}

export class FieldIndex {
  private readonly postings = new Map<string, Postings>();
  /** The same terms, for prefix look-ups. */
  private readonly vocabulary = new SearchableMap<Postings>();
  /** The same terms again, for the look-up of a typo's neighbours. */
  private readonly typos = new TypoIndex();
  /** Per field, each slot's distinct-term count (1 for an empty field, as MiniSearch counted it). */
  private readonly lengths: number[][] = Array.from({ length: FIELD_COUNT }, () => []);
  private readonly lengthSums = new Float64Array(FIELD_COUNT);
  /**
   * Per field and slot, BM25's length normalisation `K·(1 − B + B·length ÷ average)` and the
   * term score of a word occurring once, `D + (K + 1) ÷ (1 + norm)` (most postings): worked out
   * once per change of the entries, not per posting per match. Same arithmetic, same bits.
   */
  private saturation = Array.from({ length: FIELD_COUNT }, () => ({ norm: new Float64Array(0), once: new Float64Array(0) }));
  /** Bumped by every add and remove; `saturation` was worked out at `saturationAt`. */
  private changes = 0;
  private saturationAt = -1;
  private docCount = 0;

  // Scratch space of a match, reused: stamps say which slots the current match (or term) touched.
  private total = new Float64Array(64);
  private matchedTerms = new Uint8Array(64);
  /** Which query terms found each slot, as bits: terms 0–31, then 32–63. */
  private termsLow = new Uint32Array(64);
  private termsHigh = new Uint32Array(64);
  private totalStamp = new Uint32Array(64);
  private termStamp = new Uint32Array(64);
  private stamp = 0;
  private readonly touched: number[] = [];

  constructor(private readonly boosts: readonly number[]) {}

  get size(): number {
    return this.docCount;
  }

  /** Indexes `fields` (each its terms with their occurrences) under `slot`, which must be free. */
  add(slot: number, fields: ReadonlyArray<ReadonlyMap<string, number>>): void {
    this.ensureCapacity(slot + 1);
    this.docCount++;
    this.changes++;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const counts = fields[f];
      const length = counts.size === 0 ? 1 : counts.size;
      this.lengths[f][slot] = length;
      this.lengthSums[f] += length;
      for (const [term, count] of counts) {
        let postings = this.postings.get(term);
        if (postings === undefined) {
          postings = [undefined, undefined, undefined];
          this.postings.set(term, postings);
          this.vocabulary.set(term, postings);
          this.typos.add(term);
        }
        const inField = (postings[f] ??= { slots: [], counts: [] });
        inField.slots.push(slot);
        inField.counts.push(count);
      }
    }
  }

  /** Takes out what `add(slot, fields)` put in; `fields` must be the same. */
  remove(slot: number, fields: ReadonlyArray<ReadonlyMap<string, number>>): void {
    this.docCount--;
    this.changes++;
    for (let f = 0; f < FIELD_COUNT; f++) {
      this.lengthSums[f] -= this.lengths[f][slot];
      for (const term of fields[f].keys()) {
        const postings = this.postings.get(term);
        if (postings === undefined) continue;
        const inField = postings[f];
        if (inField === undefined) continue;
        const at = inField.slots.indexOf(slot);
        if (at >= 0) {
          inField.slots.splice(at, 1);
          inField.counts.splice(at, 1);
        }
        if (inField.slots.length === 0) postings[f] = undefined;
        if (postings.every((p) => p === undefined)) {
          this.postings.delete(term);
          this.vocabulary.delete(term);
          this.typos.remove(term);
        }
      }
    }
  }

  /**
   * The two highest-scoring slots among those `accept` lets through: per query term the BM25+
   * sum over fields (plus its prefix and typo expansions, weighted down), summed over terms and
   * multiplied by the number of query terms that found the slot. Of equal scores, the slot `wins` prefers.
   */
  topTwo(query: readonly QueryTerm[], accept: (slot: number) => boolean, wins: (slot: number, over: number) => boolean): TopTwo | undefined {
    const expansions = query.slice(0, MAX_QUERY_TERMS).map((q) => this.expansionsOf(q));
    if (this.saturationAt !== this.changes) this.workOutSaturation();
    const queryStamp = this.nextStamp();
    this.touched.length = 0;
    for (let t = 0; t < expansions.length; t++) {
      const termStamp = this.nextStamp();
      const lowBit = t < 32 ? (1 << t) >>> 0 : 0;
      const highBit = t < 32 ? 0 : (1 << (t - 32)) >>> 0;
      for (const { postings, weight } of expansions[t]) this.scoreTerm(postings, weight, queryStamp, termStamp, lowBit, highBit);
    }
    let best = -1;
    let bestScore = 0;
    let secondScore = 0;
    for (const slot of this.touched) {
      const score = this.total[slot] * this.matchedTerms[slot];
      if (score < secondScore || !accept(slot)) continue;
      if (score > bestScore) {
        secondScore = bestScore;
        bestScore = score;
        best = slot;
      } else {
        // A tie is decided by `wins`, not by the order the entries were added: that order is
        // the process's history (a rebuilt index adds them in another), and the answer must
        // depend on the stored entries alone.
        if (score === bestScore && wins(slot, best)) best = slot;
        secondScore = score;
      }
    }
    if (best < 0) return undefined;
    const bestTerms = query.map((_, i) => this.foundBy(best, i));
    return { best, bestScore, secondScore, bestTerms };
  }

  /** The postings a query term reaches, with their weights, in MiniSearch's order. */
  private expansionsOf(q: QueryTerm): Array<{ postings: Postings; weight: number }> {
    const found: Array<{ postings: Postings; weight: number }> = [];
    const exact = this.postings.get(q.term);
    if (exact !== undefined) found.push({ postings: exact, weight: 1 });
    const fuzzy = q.typo ? this.typos.near(q.term, this.postings) : undefined;
    if (q.prefix) {
      for (const [term, postings] of this.vocabulary.atPrefix(q.term)) {
        const distance = term.length - q.term.length;
        if (distance === 0) continue;
        fuzzy?.delete(term);
        found.push({ postings, weight: (PREFIX_WEIGHT * term.length) / (term.length + 0.3 * distance) });
      }
    }
    if (fuzzy !== undefined) {
      for (const [term, postings] of fuzzy) found.push({ postings, weight: (FUZZY_WEIGHT * term.length) / (term.length + 1) });
    }
    return found;
  }

  /** Whether the entry in `slot` holds `term` in any field. */
  holds(slot: number, term: string): boolean {
    return this.postings.get(term)?.some((inField) => inField?.slots.includes(slot)) ?? false;
  }

  /** Whether query term `t` (≤ 64 of them) found `slot` in the last topTwo. */
  private foundBy(slot: number, t: number): boolean {
    return t < 32 ? (this.termsLow[slot] & (1 << t)) !== 0 : (this.termsHigh[slot] & (1 << (t - 32))) !== 0;
  }

  /** Adds the term's score to each slot holding it; the first hit of term and query counts the slot in. */
  private scoreTerm(postings: Postings, weight: number, queryStamp: number, termStamp: number, lowBit: number, highBit: number): void {
    for (let f = 0; f < FIELD_COUNT; f++) {
      const inField = postings[f];
      if (inField === undefined) continue;
      const { slots, counts } = inField;
      const n = slots.length;
      const idf = Math.log(1 + (this.docCount - n + 0.5) / (n + 0.5));
      const fieldWeight = weight * this.boosts[f];
      const { norm, once } = this.saturation[f];
      for (let i = 0; i < n; i++) {
        const slot = slots[i];
        const tf = counts[i];
        const score = fieldWeight * (idf * (tf === 1 ? once[slot] : D + (tf * (K + 1)) / (tf + norm[slot])));
        if (this.termStamp[slot] === termStamp) {
          this.total[slot] += score;
        } else if (this.totalStamp[slot] === queryStamp) {
          this.termStamp[slot] = termStamp;
          this.total[slot] += score;
          this.matchedTerms[slot]++;
          this.termsLow[slot] |= lowBit;
          this.termsHigh[slot] |= highBit;
        } else {
          this.termStamp[slot] = termStamp;
          this.totalStamp[slot] = queryStamp;
          this.total[slot] = score;
          this.matchedTerms[slot] = 1;
          this.termsLow[slot] = lowBit;
          this.termsHigh[slot] = highBit;
          this.touched.push(slot);
        }
      }
    }
  }


  private workOutSaturation(): void {
    const slots = this.total.length;
    for (let f = 0; f < FIELD_COUNT; f++) {
      const lengths = this.lengths[f];
      const averageLength = this.lengthSums[f] / this.docCount;
      const norm = new Float64Array(slots);
      const once = new Float64Array(slots);
      for (let slot = 0; slot < lengths.length; slot++) {
        if (lengths[slot] === undefined) continue;
        norm[slot] = K * (1 - B + (B * lengths[slot]) / averageLength);
        once[slot] = D + (1 * (K + 1)) / (1 + norm[slot]);
      }
      this.saturation[f] = { norm, once };
    }
    this.saturationAt = this.changes;
  }

  /** A stamp no slot carries yet; the stamps are cleared when the counter would wrap. */
  private nextStamp(): number {
    if (this.stamp === 0xffffffff) {
      this.stamp = 0;
      this.totalStamp.fill(0);
      this.termStamp.fill(0);
    }
    return ++this.stamp;
  }

  private ensureCapacity(slots: number): void {
    if (slots <= this.total.length) return;
    const capacity = Math.max(slots, this.total.length * 2);
    const grow = <A extends Float64Array | Uint32Array | Uint8Array>(old: A, make: (n: number) => A): A => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.total = grow(this.total, (n) => new Float64Array(n));
    this.matchedTerms = grow(this.matchedTerms, (n) => new Uint8Array(n));
    this.termsLow = grow(this.termsLow, (n) => new Uint32Array(n));
    this.termsHigh = grow(this.termsHigh, (n) => new Uint32Array(n));
    this.totalStamp = grow(this.totalStamp, (n) => new Uint32Array(n));
    this.termStamp = grow(this.termStamp, (n) => new Uint32Array(n));
  }
}
