// The terms of a knowledge-base text: the words Intl.Segmenter finds (so Chinese, which has no
// spaces, splits into words as well as languages that have them), lowercased, English endings cut.
// Chinese character bigrams were measured as extra terms (all bigrams of a Han run, or only those
// joining characters the segmenter's dictionary left single, 退 | 货): on the labelled questions in
// fixtures/ neither answered more Chinese questions at the same precision, so words alone it is.

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });

const LATIN_WORD = /^[\p{Script=Latin}\d]+$/u;

/** Enough for a customer's question; a longer text is cut here rather than tokenised whole. */
export const MAX_QUERY_CHARS = 1000;

/** Distinct terms a query may contribute, so a long text costs no more than a question. */
export const MAX_QUERY_TERMS = 48;

/** No word is longer; a longer "word" (a pasted token, a hash) would only make fuzzy search slow. */
const MAX_TERM_CHARS = 40;

/** The terms of `text`, in order (repeats kept: the index counts them). */
export function termsOf(text: string): string[] {
  return ASCII_ONLY.test(text) ? termsFrom(text, asciiWordsOf) : segmentedTermsOf(text);
}

/** termsOf through Intl.Segmenter whatever the text: what the ASCII path must equal. */
export function segmentedTermsOf(text: string): string[] {
  return termsFrom(text, segmentedWordsOf);
}

function termsFrom(text: string, wordsOf: (text: string, addWord: (word: string) => void) => void): string[] {
  const terms: string[] = [];
  wordsOf(text, (word) => {
    if (word.length <= MAX_TERM_CHARS) terms.push(stem(word.toLowerCase()));
  });
  return terms;
}

function segmentedWordsOf(text: string, addWord: (word: string) => void): void {
  for (const { segment, isWordLike } of segmenter.segment(text)) if (isWordLike) addWord(segment);
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** The word classes of Unicode's word-boundary rules (UAX #29) that ASCII holds. */
const enum WordClass {
  Other,
  Letter,
  Digit,
  Underscore,
  /** `:` — joins letters. */
  MidLetter,
  /** `.` and `'` — join letters, and digits. */
  MidNumLet,
  /** `,` and `;` — join digits. */
  MidNum,
}

const ASCII_CLASSES = (() => {
  const classes = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const ch = String.fromCharCode(c);
    if (/[A-Za-z]/.test(ch)) classes[c] = WordClass.Letter;
    else if (/[0-9]/.test(ch)) classes[c] = WordClass.Digit;
  }
  classes['_'.charCodeAt(0)] = WordClass.Underscore;
  classes[':'.charCodeAt(0)] = WordClass.MidLetter;
  classes['.'.charCodeAt(0)] = WordClass.MidNumLet;
  classes["'".charCodeAt(0)] = WordClass.MidNumLet;
  classes[','.charCodeAt(0)] = WordClass.MidNum;
  classes[';'.charCodeAt(0)] = WordClass.MidNum;
  return classes;
})();

const isWordChar = (c: WordClass) => c === WordClass.Letter || c === WordClass.Digit || c === WordClass.Underscore;

/**
 * The word-like segments Intl.Segmenter finds in an ASCII text, found about twenty times faster:
 * segmenting was half of building the index. Letters, digits and `_` run together; `:`, `.` and
 * `'` join two letters, `.`, `'`, `,` and `;` two digits ("can't", "e.g", "3.5", "1,000"); a
 * lone `_` is not a word, `__` is. test/kb-terms.test.ts holds it to the segmenter's answers.
 */
function asciiWordsOf(text: string, addWord: (word: string) => void): void {
  let i = 0;
  while (i < text.length) {
    if (!isWordChar(ASCII_CLASSES[text.charCodeAt(i)])) {
      i++;
      continue;
    }
    const start = i;
    let wordLike = false;
    for (;;) {
      const here = ASCII_CLASSES[text.charCodeAt(i)];
      if (here !== WordClass.Underscore) wordLike = true;
      const next = i + 1 < text.length ? ASCII_CLASSES[text.charCodeAt(i + 1)] : WordClass.Other;
      if (isWordChar(next)) {
        i++;
        continue;
      }
      const after = i + 2 < text.length ? ASCII_CLASSES[text.charCodeAt(i + 2)] : WordClass.Other;
      const joinsLetters = here === WordClass.Letter && after === WordClass.Letter && (next === WordClass.MidLetter || next === WordClass.MidNumLet);
      const joinsDigits = here === WordClass.Digit && after === WordClass.Digit && (next === WordClass.MidNum || next === WordClass.MidNumLet);
      if (joinsLetters || joinsDigits) {
        i += 2;
        continue;
      }
      break;
    }
    i++;
    if (wordLike || i - start > 1) addWord(text.slice(start, i));
  }
}

/** The distinct terms of a query: its first MAX_QUERY_CHARS characters, at most MAX_QUERY_TERMS terms. */
export function queryTermsOf(text: string): string[] {
  const distinct = new Set(termsOf(text.slice(0, MAX_QUERY_CHARS)));
  return [...distinct].slice(0, MAX_QUERY_TERMS);
}

/** Whether a term is a word in a Latin script (or digits), where typos and word endings are common. */
export function isLatinWord(term: string): boolean {
  return LATIN_WORD.test(term);
}

/**
 * Cuts the commonest English endings, so "returned", "returns" and "returning" are one term.
 * Crude (stored → "stor"), but the index and the query are cut alike, which is all that matters.
 */
function stem(word: string): string {
  if (word.length < 4 || !isLatinWord(word)) return word;
  let stemmed = word;
  if (stemmed.endsWith('ies') && stemmed.length > 4) stemmed = `${stemmed.slice(0, -3)}y`;
  else if (stemmed.endsWith('ing') && stemmed.length > 5) stemmed = stemmed.slice(0, -3);
  else if (stemmed.endsWith('ed') && stemmed.length > 4) stemmed = stemmed.slice(0, -2);
  else if (stemmed.endsWith('s') && !stemmed.endsWith('ss')) stemmed = stemmed.slice(0, -1);
  // shipped → shipp → ship; only consonants a short vowel doubles before an ending (not "ll": called).
  if (stemmed !== word && stemmed.length > 3 && stemmed.at(-1) === stemmed.at(-2) && /[bdgmnprt]/.test(stemmed.at(-1) ?? '')) stemmed = stemmed.slice(0, -1);
  if (stemmed.endsWith('e') && stemmed.length > 4) stemmed = stemmed.slice(0, -1);
  return stemmed;
}
