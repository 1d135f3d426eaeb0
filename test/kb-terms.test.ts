// The terms of a knowledge-base text: an ASCII text takes a hand-written path instead of
// Intl.Segmenter (engine/service/kb/terms.ts), and must give exactly the segmenter's terms, or the
// index would hold other words than the questions are matched with.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { segmentedTermsOf, termsOf } from '../engine/service/kb/terms.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const ENTRIES = JSON.parse(readFileSync(new URL('knowledge-base.json', FIXTURES), 'utf8')) as Array<{ questions: string[]; answer: string; topic: string }>;
const QUESTIONS = readFileSync(new URL('knowledge-base-questions.jsonl', FIXTURES), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { question: string }).question);

describe('termsOf', () => {
  it('gives the segmenter terms for every text of the fixture knowledge base and its questions', () => {
    const texts = [...ENTRIES.flatMap((e) => [...e.questions, e.answer, e.topic]), ...QUESTIONS];
    expect(texts.filter((t) => /^[\x00-\x7f]*$/.test(t)).length).toBeGreaterThan(100);
    for (const text of texts) expect(termsOf(text), text).toEqual(segmentedTermsOf(text));
  });

  it('joins and splits where the segmenter does', () => {
    expect(termsOf("Can't log in: e.g. user:name, 3.5 or 1,000 items; a_b __ _ x.1 1.x a..b")).toEqual(["can't", 'log', 'in', 'e.g', 'user:name', '3.5', 'or', '1,000', 'item', 'a_b', '__', 'x', '1', '1', 'x', 'a', 'b']);
  });

  it('gives the segmenter terms for 100,000 random texts of letters, digits and punctuation', () => {
    const alphabet = "aZe9 0_.',;:-\n\t@#x1\r\u000b\u0000/\"";
    let seed = 1;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const mismatches: string[] = [];
    for (let k = 0; k < 100_000; k++) {
      let text = '';
      for (let i = next(14); i > 0; i--) text += alphabet[next(alphabet.length)];
      if (JSON.stringify(termsOf(text)) !== JSON.stringify(segmentedTermsOf(text))) mismatches.push(text);
    }
    expect(mismatches).toEqual([]);
  });

  it('gives the segmenter terms around every ASCII character', () => {
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      for (const text of [ch, `a${ch}b`, `1${ch}2`, `_${ch}_`, `a${ch}`, `${ch}1`, `ab${ch}${ch}cd`]) expect(termsOf(text), JSON.stringify(text)).toEqual(segmentedTermsOf(text));
    }
  });
});
