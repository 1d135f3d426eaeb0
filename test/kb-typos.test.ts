// The knowledge-base index's typo look-up (engine/service/kb/typo-index.ts) finds exactly the
// vocabulary's words one letter dropped, added or changed away — the same as trying every such
// edit — after words come and go, and none with digits (a number one digit off is not a typo).

import { describe, expect, it } from 'vitest';
import { TypoIndex } from '../engine/service/kb/typo-index.ts';

/** Every word one edit from `term` over `letters` that `vocabulary` holds: the definition. */
function byEveryEdit(term: string, vocabulary: ReadonlyMap<string, number>, letters: readonly string[]): string[] {
  const found = new Set<string>();
  const keep = (word: string) => void (word !== term && vocabulary.has(word) && found.add(word));
  for (let i = 0; i < term.length; i++) keep(term.slice(0, i) + term.slice(i + 1));
  for (const letter of letters) {
    for (let i = 0; i < term.length; i++) keep(term.slice(0, i) + letter + term.slice(i + 1));
    for (let i = 0; i <= term.length; i++) keep(term.slice(0, i) + letter + term.slice(i));
  }
  return [...found].sort();
}

describe('TypoIndex', () => {
  it('finds exactly the words one edit away, after adds and removals', () => {
    const letters = ['a', 'b', 'c', 'd', 'e', 'é', 'o'];
    let seed = 11;
    const next = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const word = (min: number) => Array.from({ length: min + next(4) }, () => letters[next(letters.length)]).join('');
    const vocabulary = new Map<string, number>();
    const index = new TypoIndex();
    for (let i = 0; i < 3000; i++) {
      const w = word(3);
      if (vocabulary.has(w)) continue;
      vocabulary.set(w, i);
      index.add(w);
    }
    let k = 0;
    for (const w of [...vocabulary.keys()]) {
      if (k++ % 4 !== 0) continue;
      vocabulary.delete(w);
      index.remove(w);
    }
    let withNeighbours = 0;
    for (let i = 0; i < 3000; i++) {
      const q = word(5);
      const expected = byEveryEdit(q, vocabulary, letters);
      expect([...index.near(q, vocabulary).keys()].sort(), q).toEqual(expected);
      if (expected.length > 0) withNeighbours++;
    }
    expect(withNeighbours).toBeGreaterThan(300);
  });

  it('does not index words with digits, and gives what the vocabulary holds for each word found', () => {
    const vocabulary = new Map([
      ['48213377', 1],
      ['parcel', 2],
      ['parcels', 3],
    ]);
    const index = new TypoIndex();
    for (const w of vocabulary.keys()) index.add(w);
    expect(index.near('48213378', vocabulary).size).toBe(0);
    expect([...index.near('parsel', vocabulary)]).toEqual([['parcel', 2]]);
    expect(new Map(index.near('parcel', vocabulary))).toEqual(new Map([['parcels', 3]]));
  });
});
