// The knowledge-base matcher as it was built on MiniSearch's own search (BM25+, prefix and fuzzy
// terms), kept as the reference the engine's index must agree with: the engine's index
// (engine/service/kb/field-index.ts) scores the same way but keeps only the best two entries,
// because MiniSearch builds and sorts a result for every entry holding any query word, which at
// 10,000 entries took milliseconds per match (docs/benchmarks.md, "Knowledge base").

import MiniSearch, { type SearchResult } from 'minisearch';
import { KB_CONFIDENCE_THRESHOLD, type KnowledgeEntry, type KnowledgeMatch } from '../engine/service/kb/mod.ts';
import { isLatinWord, queryTermsOf, termsOf } from '../engine/service/kb/terms.ts';

/** An entry as MiniSearch holds it: each field its terms, separated by spaces. */
interface IndexedEntry {
  id: string;
  questions: string;
  answer: string;
  topic: string;
  language: string;
}

const splitOnSpaces = (text: string): string[] => text.split(' ');

/** See rankedTerms. */
const COMMON_SHARE = 0.2;
const COMMON_FLOOR = 500;

const FIELD_BOOSTS = { questions: 3, topic: 1.5, answer: 1 };

export class MiniSearchKnowledgeIndex {
  readonly threshold: number;
  private readonly search = new MiniSearch<IndexedEntry>({
    fields: ['questions', 'answer', 'topic'],
    storeFields: ['language'],
    // The fields hold their terms already (upsert), so each entry is segmented once, not twice.
    tokenize: splitOnSpaces,
    // The terms are final; MiniSearch's default would lowercase each one again.
    processTerm: (term) => term,
    searchOptions: {
      boost: FIELD_BOOSTS,
      combineWith: 'OR',
      // Typos and word endings ("oder", "returning") are a Latin-script matter; a Chinese term is
      // one or two characters, where one edit makes a different word. Only a term no entry holds
      // is looked for approximately: expanding known ones would cost time and blur the match.
      prefix: (term) => term.length >= 4 && isLatinWord(term) && !this.docsWithTerm.has(term),
      fuzzy: (term) => (term.length >= 5 && isLatinWord(term) && !this.docsWithTerm.has(term) ? 0.2 : false),
      maxFuzzy: 2,
    },
  });
  /**
   * Each entry as indexed, with its distinct terms: MiniSearch removes a document completely only
   * when given it back (discarding by id leaves it counted in the scores until a vacuum), and the
   * terms keep `docsWithTerm` right when an entry is replaced.
   */
  private readonly entries = new Map<string, { doc: IndexedEntry; terms: Set<string> }>();
  private readonly docsWithTerm = new Map<string, number>();

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
    const questions = termsOf(entry.questions.join('\n'));
    const answer = termsOf(entry.answer);
    const topic = termsOf(entry.topic);
    const doc: IndexedEntry = { id: entry.faq, questions: questions.join(' '), answer: answer.join(' '), topic: topic.join(' '), language: entry.language ?? '' };
    this.search.add(doc);
    const terms = new Set([...questions, ...answer, ...topic]);
    this.entries.set(entry.faq, { doc, terms });
    for (const term of terms) this.docsWithTerm.set(term, (this.docsWithTerm.get(term) ?? 0) + 1);
  }

  /** Removes the entry; false when there was none. */
  remove(faq: string): boolean {
    const indexed = this.entries.get(faq);
    if (indexed === undefined) return false;
    this.search.remove(indexed.doc);
    this.entries.delete(faq);
    for (const term of indexed.terms) {
      const left = (this.docsWithTerm.get(term) ?? 1) - 1;
      if (left === 0) this.docsWithTerm.delete(term);
      else this.docsWithTerm.set(term, left);
    }
    return true;
  }

  /**
   * The entry that answers `text`, among those in `language` (and those without a language)
   * when it is given. Any string is accepted; one with no words is simply not matched.
   */
  match(text: string, language?: string): KnowledgeMatch {
    if (typeof text !== 'string') return { confident: false, score: 0 };
    const queryTerms = queryTermsOf(text);
    if (queryTerms.length === 0 || this.size === 0) return { confident: false, score: 0 };
    const filter = language === undefined ? undefined : (result: SearchResult) => result.language === language || result.language === '';
    // Handed over as its terms, which the index's tokenizer splits on the spaces no term contains.
    const [best, second] = this.search.search(this.rankedTerms(queryTerms).join(' '), { filter });
    if (best === undefined) return { confident: false, score: 0 };
    const margin = second === undefined ? 1 : (best.score - second.score) / best.score;
    const score = Math.round(((this.coverage(queryTerms, best.id as string, best.queryTerms) + margin) / 2) * 1000) / 1000;
    return score >= this.threshold ? { confident: true, faq: best.id as string, score } : { confident: false, score };
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
   * The IDF-weighted share of `queryTerms` the entry `faq` holds (0..1). A query term the ranking
   * found only approximately (a typo, another ending) counts as held when it ranked the entry.
   */
  private coverage(queryTerms: readonly string[], faq: string, approximate: readonly string[]): number {
    const held = this.entries.get(faq)?.terms;
    let total = 0;
    let covered = 0;
    for (const term of queryTerms) {
      const weight = this.idf(term);
      total += weight;
      if (held?.has(term) || approximate.includes(term)) covered += weight;
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

/** The reference index of `entries`. */
export function miniSearchIndexOf(entries: Iterable<KnowledgeEntry>, options: { threshold?: number } = {}): MiniSearchKnowledgeIndex {
  const index = new MiniSearchKnowledgeIndex(options);
  for (const entry of entries) index.upsert(entry);
  return index;
}
