// A full-text index of knowledge-base entries (BM25+, field-index.ts) that answers a customer's text
// with the entry it matches, and says whether the match is good enough to send as an answer.
//
// BM25 scores grow with the number and rarity of the query's words, so a raw score means
// nothing on its own: "refund" and a paragraph about a late refund score on different scales.
// The score returned is instead the mean of two shares, each in 0..1 whatever the query:
// - coverage: how much of the query the best entry explains — the inverse document frequencies
//   of the query terms found in it, over those of all the query's terms. Common words ("my",
//   的) weigh little, a word no entry holds weighs most, so "do you sell dog food" scores low
//   even though "you" matches something;
// - margin: how far the best entry leads the second, (first − second) ÷ first in BM25 terms, so
//   a question two entries answer equally well ("store hours" on a holiday?) is not guessed.
// Either alone answered fewer of the labelled questions at the same precision than their mean
// (docs/protocol.md, "Knowledge base").

import { FieldIndex, termCounts, type QueryTerm } from './field-index.ts';
import { isLatinWord, queryTermsOf, termsOf } from './terms.ts';

export interface KnowledgeEntry {
  faq: string;
  topic: string;
  /** Ways a customer asks it (≥ 1). */
  questions: readonly string[];
  answer: string;
  /** A BCP 47 tag (`en`, `zh`); an entry without one answers in every language. */
  language?: string;
}

export type KnowledgeMatch = { confident: true; faq: string; score: number } | { confident: false; score: number };

/**
 * The score from which a match is sent as an answer: the lowest at which at least 9 answers in 10
 * were right on half of the labelled questions in fixtures/knowledge-base-questions.jsonl (the
 * even lines); test/kb-retrieval.test.ts checks it on the other half.
 */
export const KB_CONFIDENCE_THRESHOLD = 0.48;

/**
 * An entry as indexed: its slot in the field index and its texts. Its terms are not kept: at
 * 10,000 entries holding them (for a removal) was most of the index's memory and the garbage
 * collector's work while building it; a removal, which is rare, finds them again from the texts.
 */
interface IndexedEntry {
  slot: number;
  texts: Pick<KnowledgeEntry, 'questions' | 'answer' | 'topic'>;
}

type FieldTerms = [questions: Map<string, number>, answer: Map<string, number>, topic: Map<string, number>];

/** The terms of each field with their occurrences, and the distinct terms of all of them. */
function fieldTermsOf(texts: IndexedEntry['texts']): { fields: FieldTerms; distinct: Set<string> } {
  const fields: FieldTerms = [termCounts(termsOf(texts.questions.join('\n'))), termCounts(termsOf(texts.answer)), termCounts(termsOf(texts.topic))];
  const distinct = new Set<string>();
  for (const counts of fields) for (const term of counts.keys()) distinct.add(term);
  return { fields, distinct };
}

/** `en` of `en-GB` or `EN`; '' for none. */
const primaryLanguage = (tag: string | undefined): string => (typeof tag === 'string' ? tag.split('-')[0].toLowerCase() : '');

/** See rankedTerms. */
const COMMON_SHARE = 0.2;
const COMMON_FLOOR = 500;

const HAS_DIGIT = /\d/;

/** Per field, in the order of IndexedEntry.fields. */
const FIELD_BOOSTS = [3, 1, 1.5];

export class KnowledgeIndex {
  readonly threshold: number;
  private readonly fields = new FieldIndex(FIELD_BOOSTS);
  private readonly entries = new Map<string, IndexedEntry>();
  /** By slot; a removed entry's slot is reused, so the field index's arrays stay dense. */
  private readonly bySlot: Array<{ faq: string; language: string } | undefined> = [];
  private readonly freeSlots: number[] = [];
  private readonly docsWithTerm = new Map<string, number>();
  /** Of two entries scoring the same, the one whose id sorts first answers. */
  private readonly lowerId = (slot: number, over: number): boolean => (this.bySlot[slot]?.faq as string) < (this.bySlot[over]?.faq as string);
  /**
   * The language the current match wants ('' for any) and the filter reading it: made once, not
   * per match, as a closure per call showed in the engine's profile.
   */
  private wanted = '';
  private readonly inWantedLanguage = (slot: number): boolean => {
    const language = this.bySlot[slot]?.language;
    return this.wanted === '' || language === this.wanted || language === '';
  };

  constructor(options: { threshold?: number } = {}) {
    this.threshold = options.threshold ?? KB_CONFIDENCE_THRESHOLD;
  }

  get size(): number {
    return this.entries.size;
  }

  has(faq: string): boolean {
    return this.entries.has(faq);
  }

  /** Adds the entry, or replaces the one with the same `faq`. */
  upsert(entry: KnowledgeEntry): void {
    this.remove(entry.faq);
    const texts = { questions: [...entry.questions], answer: entry.answer, topic: entry.topic };
    const { fields, distinct } = fieldTermsOf(texts);
    const slot = this.freeSlots.pop() ?? this.bySlot.length;
    this.fields.add(slot, fields);
    this.bySlot[slot] = { faq: entry.faq, language: primaryLanguage(entry.language) };
    this.entries.set(entry.faq, { slot, texts });
    for (const term of distinct) this.docsWithTerm.set(term, (this.docsWithTerm.get(term) ?? 0) + 1);
  }

  /** Removes the entry; false when there was none. */
  remove(faq: string): boolean {
    const indexed = this.entries.get(faq);
    if (indexed === undefined) return false;
    const { fields, distinct } = fieldTermsOf(indexed.texts);
    this.fields.remove(indexed.slot, fields);
    this.bySlot[indexed.slot] = undefined;
    this.freeSlots.push(indexed.slot);
    this.entries.delete(faq);
    for (const term of distinct) {
      const left = (this.docsWithTerm.get(term) ?? 1) - 1;
      if (left === 0) this.docsWithTerm.delete(term);
      else this.docsWithTerm.set(term, left);
    }
    return true;
  }

  /**
   * The entry that answers `text`, among those in `language` (and those without a language)
   * when it is given; languages compare by their primary subtag, so `en-GB` finds `en` entries.
   * Any string is accepted; one with no words is simply not matched.
   */
  match(text: string, language?: string): KnowledgeMatch {
    if (typeof text !== 'string') return { confident: false, score: 0 };
    const queryTerms = queryTermsOf(text);
    if (queryTerms.length === 0 || this.size === 0) return { confident: false, score: 0 };
    const ranked = this.rankedTerms(queryTerms);
    this.wanted = primaryLanguage(language);
    const top = this.fields.topTwo(ranked.map((term) => this.queryTerm(term)), this.inWantedLanguage, this.lowerId);
    if (top === undefined) return { confident: false, score: 0 };
    const faq = this.bySlot[top.best]?.faq as string;
    const margin = top.secondScore === 0 ? 1 : (top.bestScore - top.secondScore) / top.bestScore;
    const found = new Set(ranked.filter((_, i) => top.bestTerms[i]));
    const score = Math.round(((this.coverage(queryTerms, ranked, found, top.best) + margin) / 2) * 1000) / 1000;
    return score >= this.threshold ? { confident: true, faq, score } : { confident: false, score };
  }

  /**
   * Typos and word endings ("oder", "returning") are a matter of words in a Latin script; a
   * Chinese term is one or two characters, where one edit makes a different word, and a number
   * one digit away is another order or amount, not a typo. Only a term no entry holds is looked
   * for approximately: expanding known ones would cost time and blur the match. One edit, from
   * five letters: two edits (MiniSearch's allowance from eight letters) changed no answer on the
   * labelled questions and cost milliseconds in a large vocabulary.
   */
  private queryTerm(term: string): QueryTerm {
    const unknownWord = isLatinWord(term) && !HAS_DIGIT.test(term) && !this.docsWithTerm.has(term);
    return { term, prefix: unknownWord && term.length >= 4, typo: unknownWord && term.length >= 5 };
  }

  /**
   * The query terms the ranking uses: not those in more than COMMON_SHARE of the entries once
   * that is more than COMMON_FLOOR entries ("my", "how", 的 in a large knowledge base). Every
   * entry holding a term is scored for it, so with 10,000 entries they were most of a match's
   * time (bench/micro/kb-match.ts); below the floor they still help to rank, and skipping them
   * cost answers on the labelled questions. If every term is that common, the rarest.
   */
  private rankedTerms(queryTerms: readonly string[]): string[] {
    const limit = Math.max(COMMON_SHARE * this.size, COMMON_FLOOR);
    const ranked = queryTerms.filter((term) => (this.docsWithTerm.get(term) ?? 0) <= limit);
    if (ranked.length > 0) return ranked;
    const rarest = queryTerms.reduce((a, b) => ((this.docsWithTerm.get(a) ?? 0) <= (this.docsWithTerm.get(b) ?? 0) ? a : b));
    return [rarest];
  }

  /**
   * The IDF-weighted share of `queryTerms` the entry in slot `best` holds (0..1): the ranked terms
   * that `found` it, exactly or approximately (a typo, another ending), and the terms left out of
   * the ranking as too common that it holds.
   */
  private coverage(queryTerms: readonly string[], ranked: readonly string[], found: ReadonlySet<string>, best: number): number {
    let total = 0;
    let covered = 0;
    for (const term of queryTerms) {
      const weight = this.idf(term);
      total += weight;
      if (found.has(term) || (!ranked.includes(term) && this.fields.holds(best, term))) covered += weight;
    }
    return total === 0 ? 0 : covered / total;
  }

  /** BM25's inverse document frequency; a term no entry holds gets the largest. */
  private idf(term: string): number {
    const n = this.size;
    const df = this.docsWithTerm.get(term) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }
}

/** The index of `entries` (the stored ones, at start): the index is derived state. */
export function knowledgeIndexOf(entries: Iterable<KnowledgeEntry>, options: { threshold?: number } = {}): KnowledgeIndex {
  const index = new KnowledgeIndex(options);
  for (const entry of entries) index.upsert(entry);
  return index;
}
