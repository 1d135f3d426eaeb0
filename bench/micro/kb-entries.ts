// Knowledge bases of any size for the benchmarks, made from the fixture's (fixtures/
// knowledge-base.json): its entries repeated, each copy's questions and answer carrying two
// made-up words of its own (product names made of syllables), so the vocabulary grows with the
// entries the way product-specific entries would make it grow; and the labelled customer
// questions (fixtures/knowledge-base-questions.jsonl) to ask them. Imports nothing but the
// engine's types, so tests can use it without the benchmark harness.

import { readFileSync } from 'node:fs';
import type { KnowledgeEntry } from '../../engine/mod.ts';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

export function fixtureEntries(): KnowledgeEntry[] {
  return JSON.parse(readFileSync(new URL('knowledge-base.json', FIXTURES), 'utf8')) as KnowledgeEntry[];
}

/** A labelled customer question: `faq` is the entry that answers it, null when none does. */
export interface LabelledQuestion {
  question: string;
  language: string;
  faq: string | null;
}

export function fixtureQuestions(): LabelledQuestion[] {
  return readFileSync(new URL('knowledge-base-questions.jsonl', FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LabelledQuestion);
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tor', 'vy', 'zu', 'pe', 'sha', 'nix', 'qua', 'bo'];

/** A made-up word for copy `n`, distinct for each n (its digits in base 12, as syllables). */
function madeUpWord(n: number): string {
  let word = '';
  do {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return word;
}

/**
 * `count` entries: the fixture's, copy after copy, each copy with words of its own; with
 * `wordsPerEntry`, each entry also with that many words no other entry holds (x…), so the
 * vocabulary grows to tens of thousands of terms as a real large knowledge base's would.
 */
export function synthesisedEntries(base: readonly KnowledgeEntry[], count: number, wordsPerEntry = 0): KnowledgeEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const entry = base[i % base.length];
    const copy = Math.floor(i / base.length);
    if (copy === 0 && wordsPerEntry === 0) return entry;
    const perCopy = copy === 0 ? '' : ` ${madeUpWord(copy)} ${madeUpWord(copy * 31 + 7)}`;
    const perEntry = Array.from({ length: wordsPerEntry }, (_, j) => ` x${madeUpWord(i * wordsPerEntry + j)}`).join('');
    const own = perCopy + perEntry;
    return { ...entry, faq: copy === 0 ? entry.faq : `${entry.faq}~${copy}`, questions: entry.questions.map((q) => q + own), answer: entry.answer + own };
  });
}
