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
  const terms: string[] = [];
  for (const { segment, isWordLike } of segmenter.segment(text)) {
    if (isWordLike && segment.length <= MAX_TERM_CHARS) terms.push(stem(segment.toLowerCase()));
  }
  return terms;
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
