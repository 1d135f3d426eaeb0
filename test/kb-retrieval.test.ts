// Knowledge-base answers (engine/service/kb/): the fixture knowledge base and the labelled customer
// questions kept apart from it (fixtures/), the precision and recall of KnowledgeIndex.match at
// the chosen threshold, the index rebuilt from stored entries, and texts no customer should be
// able to break it with.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KB_CONFIDENCE_THRESHOLD, KnowledgeIndex, knowledgeIndexOf, type KnowledgeEntry } from '../engine/service/kb/mod.ts';

interface FaqEvent extends KnowledgeEntry {
  type: string;
  id: string;
}
interface Labelled {
  question: string;
  language: string;
  faq: string | null;
}

const FIXTURES = new URL('../fixtures/', import.meta.url);
const EVENTS = JSON.parse(readFileSync(new URL('knowledge-base.json', FIXTURES), 'utf8')) as FaqEvent[];
const LABELLED = readFileSync(new URL('knowledge-base-questions.jsonl', FIXTURES), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Labelled);

/** The threshold was chosen on the even lines; the odd ones were not looked at for it. */
const CHOSEN_ON = LABELLED.filter((_, i) => i % 2 === 0);
const HELD_OUT = LABELLED.filter((_, i) => i % 2 === 1);

const normalised = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

interface Figures {
  precision: number;
  recall: number;
  /** Of the questions no entry answers, the share answered "don't know". */
  declined: number;
}

function figures(index: KnowledgeIndex, questions: readonly Labelled[]): Figures {
  let answered = 0;
  let right = 0;
  let declined = 0;
  for (const q of questions) {
    const match = index.match(q.question, q.language);
    if (match.confident) {
      answered++;
      if (match.faq === q.faq) right++;
    } else if (q.faq === null) declined++;
  }
  const answerable = questions.filter((q) => q.faq !== null).length;
  return { precision: right / answered, recall: right / answerable, declined: declined / (questions.length - answerable) };
}

describe('the fixture knowledge base and its labelled questions', () => {
  it('holds at least 60 faq.upserted entries, about half English and half Chinese, each asked at least two ways', () => {
    expect(EVENTS.length).toBeGreaterThanOrEqual(60);
    for (const e of EVENTS) {
      expect(e.type).toBe('faq.upserted');
      expect(e.questions.length).toBeGreaterThanOrEqual(2);
      expect(e.answer.length).toBeGreaterThan(0);
      expect(e.topic.length).toBeGreaterThan(0);
    }
    expect(new Set(EVENTS.map((e) => e.faq)).size).toBe(EVENTS.length);
    expect(new Set(EVENTS.map((e) => e.id)).size).toBe(EVENTS.length);
    const english = EVENTS.filter((e) => e.language === 'en').length;
    const chinese = EVENTS.filter((e) => e.language === 'zh').length;
    expect(english + chinese).toBe(EVENTS.length);
    expect(Math.abs(english - chinese)).toBeLessThanOrEqual(EVENTS.length / 10);
  });

  it('labels at least 200 questions, a quarter of them unanswerable, with no question copied from an entry', () => {
    expect(LABELLED.length).toBeGreaterThanOrEqual(200);
    expect(LABELLED.filter((q) => q.faq === null).length / LABELLED.length).toBeGreaterThanOrEqual(0.25);
    const faqs = new Map(EVENTS.map((e) => [e.faq, e]));
    for (const q of LABELLED) {
      if (q.faq === null) continue;
      expect(faqs.has(q.faq), q.question).toBe(true);
      expect(faqs.get(q.faq)?.language, q.question).toBe(q.language);
    }
    const entryQuestions = new Set(EVENTS.flatMap((e) => e.questions.map(normalised)));
    expect(LABELLED.filter((q) => entryQuestions.has(normalised(q.question))).map((q) => q.question)).toEqual([]);
  });
});

describe('KnowledgeIndex.match on the labelled questions', () => {
  const index = knowledgeIndexOf(EVENTS);

  it('the threshold is the lowest at which 9 answers in 10 are right on the half it was chosen on', () => {
    expect(figures(index, CHOSEN_ON).precision).toBeGreaterThanOrEqual(0.9);
    const lower = knowledgeIndexOf(EVENTS, { threshold: KB_CONFIDENCE_THRESHOLD - 0.02 });
    expect(figures(lower, CHOSEN_ON).precision).toBeLessThan(0.9);
  });

  // Measured at 0.48: held-out half precision 0.925, recall 0.733; all questions 0.919 / 0.724,
  // 90% of unanswerable ones declined; English 0.946 / 0.693; Chinese 0.895 / 0.755.
  it('answers the held-out half with precision ≥ 0.88 and recall ≥ 0.68', () => {
    const f = figures(index, HELD_OUT);
    expect(f.precision).toBeGreaterThanOrEqual(0.88);
    expect(f.recall).toBeGreaterThanOrEqual(0.68);
  });

  it('answers all questions with precision ≥ 0.88 and recall ≥ 0.68, and declines most unanswerable ones', () => {
    const f = figures(index, LABELLED);
    expect(f.precision).toBeGreaterThanOrEqual(0.88);
    expect(f.recall).toBeGreaterThanOrEqual(0.68);
    expect(f.declined).toBeGreaterThanOrEqual(0.85);
  });

  it('holds per language: English precision ≥ 0.9, recall ≥ 0.65; Chinese precision ≥ 0.85, recall ≥ 0.7', () => {
    const english = figures(index, LABELLED.filter((q) => q.language === 'en'));
    const chinese = figures(index, LABELLED.filter((q) => q.language === 'zh'));
    expect(english.precision).toBeGreaterThanOrEqual(0.9);
    expect(english.recall).toBeGreaterThanOrEqual(0.65);
    expect(chinese.precision).toBeGreaterThanOrEqual(0.85);
    expect(chinese.recall).toBeGreaterThanOrEqual(0.7);
    expect(chinese.declined).toBeGreaterThanOrEqual(0.75);
  });

  it('matches Chinese mixed with English words, and English typos', () => {
    expect(index.match('我的order在哪里', 'zh')).toMatchObject({ confident: true, faq: 'order-status-zh' });
    expect(index.match('cant log in forgot pasword', 'en')).toMatchObject({ confident: true, faq: 'account-password-en' });
  });

  it('looks only among entries of the language asked for', () => {
    const match = index.match('积分会过期吗', 'en');
    expect(match.confident).toBe(false);
    expect(index.match('积分会过期吗', 'zh')).toMatchObject({ confident: true, faq: 'loyalty-expiry-zh' });
  });
});

describe('the index as derived state', () => {
  const answers = (index: KnowledgeIndex) => LABELLED.map((q) => index.match(q.question, q.language));

  it('gives the same answers when rebuilt from the stored entries', () => {
    expect(answers(knowledgeIndexOf(EVENTS))).toEqual(answers(knowledgeIndexOf([...EVENTS].reverse())));
  });

  it('after upserts and removals, answers as an index built from the entries left', () => {
    const live = knowledgeIndexOf(EVENTS);
    const changed = EVENTS.slice(0, 10).map((e) => ({ ...e, answer: `${e.answer} (updated)`, questions: [...e.questions].reverse() }));
    for (const e of changed) live.upsert(e);
    const removed = EVENTS.slice(10, 20).map((e) => e.faq);
    for (const faq of removed) expect(live.remove(faq)).toBe(true);
    expect(live.remove('no-such-faq')).toBe(false);
    const stored = [...changed, ...EVENTS.slice(20)];
    expect(live.size).toBe(stored.length);
    expect(answers(live)).toEqual(answers(knowledgeIndexOf(stored)));
    for (const faq of removed) expect(live.has(faq)).toBe(false);
  });

  it('replaces an entry upserted again under the same faq', () => {
    const index = knowledgeIndexOf(EVENTS);
    index.upsert({ faq: 'opening-hours-en', topic: 'stores', questions: ['Can I park my bicycle outside?', 'Is there bike parking?'], answer: 'Yes, racks at every entrance.', language: 'en' });
    expect(index.size).toBe(EVENTS.length);
    expect(index.match('where can I park my bicycle', 'en')).toMatchObject({ confident: true, faq: 'opening-hours-en' });
  });
});

describe('hostile texts', () => {
  const index = knowledgeIndexOf(EVENTS);
  const randomWords = (chars: number) => {
    let seed = 7;
    let text = '';
    while (text.length < chars) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      text += `${seed.toString(36)} `;
    }
    return text;
  };

  it.each([
    ['empty', ''],
    ['spaces', '   \n\t  '],
    ['100 KB of made-up words', randomWords(100_000)],
    ['100 KB of one character', 'x'.repeat(100_000)],
    ['100 KB of Chinese characters', '龘'.repeat(100_000)],
    ['emoji only', '😀🙃🔥👍🏽🇩🇪'],
    ['control characters', '\u0000\u0001\u0007\u001b[31m\u007f\u0085\u2028'],
    ['lone surrogates', '\ud800\udfff\ud83d'],
  ])('%s: no throw, not confident', (_, text) => {
    for (const language of [undefined, 'en', 'zh']) expect(index.match(text, language)).toMatchObject({ confident: false });
  });

  it('a value that is not a string is not matched', () => {
    expect(index.match(undefined as unknown as string)).toEqual({ confident: false, score: 0 });
    expect(index.match({ toString: () => 'refund' } as unknown as string)).toEqual({ confident: false, score: 0 });
  });

  it('an empty index answers nothing', () => {
    expect(new KnowledgeIndex().match('where is my order')).toEqual({ confident: false, score: 0 });
  });
});
