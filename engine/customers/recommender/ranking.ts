// The list a query returns: the best accepted candidates, then popular items to fill it. Only
// candidates that would enter the list are offered to `accept` (a stock lookup, in the engine).


export interface Ranked {
  sku: string;
  score: number;
}

/** `accept` asked at most once per SKU per query (it is a stock lookup in the engine). */
export function remembered(accept: ((sku: string) => boolean) | undefined): ((sku: string) => boolean) | undefined {
  if (accept === undefined) return undefined;
  const answers = new Map<string, boolean>();
  return (sku) => {
    let a = answers.get(sku);
    if (a === undefined) answers.set(sku, (a = accept(sku)));
    return a;
  };
}

/** Higher score first, then SKU, so the order is total and replays agree. */
function before(score: number, sku: string, than: Ranked): boolean {
  return score > than.score || (score === than.score && sku < than.sku);
}

export function topAccepted(
  scores: Map<string, { score: number }>,
  limit: number,
  accept: ((sku: string) => boolean) | undefined,
): Ranked[] {
  const best: Ranked[] = [];
  for (const [sku, { score }] of scores) {
    if (best.length >= limit && !before(score, sku, best[best.length - 1])) continue;
    if (accept !== undefined && !accept(sku)) continue;
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(score, sku, best[mid])) hi = mid;
      else lo = mid + 1;
    }
    best.splice(lo, 0, { sku, score });
    if (best.length > limit) best.pop();
  }
  return best;
}

/**
 * Appends popular items not yet listed until `limit`. Their scores are scaled to the last
 * listed one (or 1), so the list stays ordered best first.
 */
export function fillPopular(
  list: Ranked[],
  popular: Iterator<{ sku: string; l: number }>,
  limit: number,
  accept: ((sku: string) => boolean) | undefined,
): Ranked[] {
  if (list.length >= limit) return list;
  const floor = list.length > 0 ? list[list.length - 1].score : 1;
  let top: number | undefined;
  const listed = new Set(list.map((r) => r.sku));
  for (let next = popular.next(); !next.done && list.length < limit; next = popular.next()) {
    const { sku, l } = next.value;
    top ??= Number.isFinite(l) ? l : 0;
    if (listed.has(sku) || (accept !== undefined && !accept(sku))) continue;
    list.push({ sku, score: floor * Math.exp(Math.min(0, (Number.isFinite(l) ? l : top) - top)) });
  }
  return list;
}
