// The engine's knowledge-base index answers as MiniSearch's own search does, on every labelled
// question: the same entry, the same confidence and the same score, for the fixture and for a
// knowledge base ten times its size (copies with words of their own), before and after removals.

import { describe, expect, it } from 'vitest';
import { fixtureEntries, fixtureQuestions, synthesisedEntries } from '../bench/micro/kb-entries.ts';
import { knowledgeIndexOf } from '../engine/service/kb/mod.ts';
import { miniSearchIndexOf } from './kb-minisearch-reference.ts';

const QUESTIONS = fixtureQuestions();

function expectSameAnswers(engine: ReturnType<typeof knowledgeIndexOf>, reference: ReturnType<typeof miniSearchIndexOf>): void {
  let confident = 0;
  for (const q of QUESTIONS) {
    for (const language of [q.language, undefined]) {
      const mine = engine.match(q.question, language);
      const theirs = reference.match(q.question, language);
      expect({ question: q.question, language, ...mine }).toEqual({ question: q.question, language, ...theirs });
      if (mine.confident) confident++;
    }
  }
  // Not a vacuous agreement on "don't know".
  expect(confident).toBeGreaterThan(QUESTIONS.length / 2);
}

describe('the knowledge index against MiniSearch', () => {
  it('agrees on the fixture', () => {
    const entries = fixtureEntries();
    expectSameAnswers(knowledgeIndexOf(entries), miniSearchIndexOf(entries));
  });

  it('agrees on a knowledge base of 640 entries, and after a third of them are removed', () => {
    const entries = synthesisedEntries(fixtureEntries(), 640);
    const engine = knowledgeIndexOf(entries);
    const reference = miniSearchIndexOf(entries);
    expectSameAnswers(engine, reference);
    for (let i = 0; i < entries.length; i += 3) {
      expect(engine.remove(entries[i].faq)).toBe(true);
      expect(reference.remove(entries[i].faq)).toBe(true);
    }
    expectSameAnswers(engine, reference);
  });
});
