// The vocabulary's words one typo away from a query word: a letter dropped, added or changed.
// Each indexed word is kept under every form it takes with one letter dropped, so a look-up
// costs about two map reads per letter of the query word, whatever the vocabulary's size. (The
// radix tree's fuzzy search walked the vocabulary: ~1 ms per word at 20,000 words; trying every
// possible edit in the term map cost a few hundred reads per word.)

import { isLatinWord } from './terms.ts';

const DIGIT = /\d/;

/** Only Latin-script words without digits have typos (knowledge-index.ts, queryTerm). */
const hasTypos = (term: string) => isLatinWord(term) && !DIGIT.test(term);

const withoutLetter = (term: string, i: number) => term.slice(0, i) + term.slice(i + 1);

/** Same length, one position different. */
function oneChanged(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let differences = 0;
  for (let i = 0; i < a.length && differences < 2; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) differences++;
  return differences === 1;
}

function keepHeld<V>(word: string, term: string, vocabulary: ReadonlyMap<string, V>, found: Map<string, V>): void {
  const value = vocabulary.get(word);
  if (word !== term && value !== undefined) found.set(word, value);
}

export class TypoIndex {
  /** A word with one letter dropped → the indexed words it comes from. */
  private readonly byDropped = new Map<string, string[]>();

  add(term: string): void {
    if (!hasTypos(term)) return;
    for (let i = 0; i < term.length; i++) {
      const dropped = withoutLetter(term, i);
      const words = this.byDropped.get(dropped);
      if (words === undefined) this.byDropped.set(dropped, [term]);
      // "book" drops to "bok" twice.
      else if (words[words.length - 1] !== term) words.push(term);
    }
  }

  remove(term: string): void {
    if (!hasTypos(term)) return;
    for (let i = 0; i < term.length; i++) {
      const dropped = withoutLetter(term, i);
      const words = this.byDropped.get(dropped);
      const at = words?.indexOf(term) ?? -1;
      if (words === undefined || at < 0) continue;
      words.splice(at, 1);
      if (words.length === 0) this.byDropped.delete(dropped);
    }
  }

  /**
   * The words one edit from `term` (not `term` itself) that `vocabulary` holds, with what it
   * holds for them. Words `term` becomes with a letter dropped are looked up in `vocabulary`
   * itself; words with a letter added or changed through the dropped forms.
   */
  near<V>(term: string, vocabulary: ReadonlyMap<string, V>): Map<string, V> {
    const found = new Map<string, V>();
    for (const word of this.byDropped.get(term) ?? []) keepHeld(word, term, vocabulary, found);
    for (let i = 0; i < term.length; i++) {
      const dropped = withoutLetter(term, i);
      keepHeld(dropped, term, vocabulary, found);
      for (const word of this.byDropped.get(dropped) ?? []) if (oneChanged(word, term)) keepHeld(word, term, vocabulary, found);
    }
    return found;
  }
}
