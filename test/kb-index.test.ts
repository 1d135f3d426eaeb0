// The knowledge-base index's own bookkeeping (engine/service/kb/field-index.ts): the order that
// decides ties, query terms beyond the 32nd, typos, slots reused after a removal, and a large
// index kept up to date entry by entry answering as one rebuilt from the entries left.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { synthesisedEntries } from '../bench/micro/kb-entries.ts';
import { KnowledgeIndex, knowledgeIndexOf, type KnowledgeEntry } from '../engine/service/kb/mod.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const ENTRIES = JSON.parse(readFileSync(new URL('knowledge-base.json', FIXTURES), 'utf8')) as KnowledgeEntry[];
const QUESTIONS = readFileSync(new URL('knowledge-base-questions.jsonl', FIXTURES), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { question: string; language: string });

const entry = (faq: string, question: string): KnowledgeEntry => ({ faq, topic: 'misc', questions: [question], answer: `About ${question}.`, language: 'en' });

describe('KnowledgeIndex bookkeeping', () => {
  it('gives a tie to the lower id whatever the order added, and says the match has no lead', () => {
    const twins = (first: string, second: string) => knowledgeIndexOf([...ENTRIES, entry(first, 'Do you repair kayak paddles?'), entry(second, 'Do you repair kayak paddles?')]);
    // Every word of the text held by both: coverage 1, no lead over the equal second, so 0.5.
    expect(twins('paddles-a', 'paddles-b').match('repair kayak paddles', 'en')).toEqual({ confident: true, faq: 'paddles-a', score: 0.5 });
    expect(twins('paddles-b', 'paddles-a').match('repair kayak paddles', 'en')).toEqual({ confident: true, faq: 'paddles-a', score: 0.5 });
  });

  it('counts words found approximately beyond the 32nd query term', () => {
    const syllables = ['bla', 'kor', 'vim', 'zut', 'dap', 'fon', 'gik'];
    const words = Array.from({ length: 40 }, (_, i) => `qu${syllables[i % 7]}${syllables[Math.floor(i / 7) % 7]}vim`);
    const index = knowledgeIndexOf([...ENTRIES, entry('made-up', words.join(' '))]);
    // The last six only as prefixes ("…vi" of "…vim"): found approximately, as terms 34 to 39.
    const query = [...words.slice(0, 34), ...words.slice(34).map((w) => w.slice(0, -1))].join(' ');
    expect(index.match(query, 'en')).toEqual({ confident: true, faq: 'made-up', score: 1 });
  });

  it('finds a word one letter added, dropped or changed away, not two, and never a number one digit away', () => {
    const index = knowledgeIndexOf([...ENTRIES, entry('jacket', 'Is the rain jacket waterproof?'), entry('voucher', 'Voucher 48213377 is not accepted')]);
    for (const typo of ['waterprof', 'waterprooof', 'waterpruof']) expect(index.match(typo, 'en'), typo).toEqual({ confident: true, faq: 'jacket', score: 1 });
    expect(index.match('watreproof', 'en')).toEqual({ confident: false, score: 0 });
    expect(index.match('48213377', 'en')).toMatchObject({ confident: true, faq: 'voucher' });
    expect(index.match('48213378', 'en')).toEqual({ confident: false, score: 0 });
  });

  it('reuses a removed entry slot without answering with the removed entry', () => {
    const index = knowledgeIndexOf(ENTRIES);
    index.upsert(entry('kayaks', 'Do you rent kayaks?'));
    expect(index.match('rent a kayak', 'en')).toMatchObject({ confident: true, faq: 'kayaks' });
    expect(index.remove('kayaks')).toBe(true);
    index.upsert(entry('bicycles', 'Do you rent bicycles?'));
    expect(index.match('rent a kayak', 'en')).not.toMatchObject({ faq: 'kayaks' });
    expect(index.match('rent a bicycle', 'en')).toMatchObject({ confident: true, faq: 'bicycles' });
    expect(index.size).toBe(ENTRIES.length + 1);
  });

  it('with 1,000 entries changed one by one, answers as an index rebuilt from the entries left', () => {
    const entries = synthesisedEntries(ENTRIES, 1000);
    const live = knowledgeIndexOf(entries);
    const left = new Map(entries.map((e) => [e.faq, e]));
    for (let i = 0; i < 60; i++) {
      const e = entries[(i * 53) % entries.length];
      if (i % 3 === 0) {
        live.remove(e.faq);
        left.delete(e.faq);
      } else {
        const changed = { ...e, answer: `${e.answer} Updated ${i}.`, questions: [...e.questions].reverse() };
        live.upsert(changed);
        left.set(e.faq, changed);
      }
    }
    const rebuilt = knowledgeIndexOf(left.values());
    expect(live.size).toBe(rebuilt.size);
    // Scores need not be bit-identical (averages summed in another order), answers must be.
    const answers = (index: KnowledgeIndex) => QUESTIONS.map((q) => index.match(q.question, q.language)).map((m) => (m.confident ? m.faq : null));
    expect(answers(live)).toEqual(answers(rebuilt));
  });
});
