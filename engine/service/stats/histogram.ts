// Fixed log-scale histograms of durations: a bucket stores how many times fell in each bin, not
// the times, so a window's percentile costs the same whatever the traffic. Bin 0 holds times
// under 1 ms; above, four bins per doubling (each about 19 % wide), the last one open-ended.

const BINS_PER_DOUBLING = 4;
/** About 10 days: longer times all land here. */
const LAST_BIN = 1 + BINS_PER_DOUBLING * 30;

function binOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LAST_BIN, 1 + Math.floor(BINS_PER_DOUBLING * Math.log2(ms)));
}

/** The time a bin stands for: its geometric middle, so the error is at most half a bin's width (about 9 %). */
function binValue(bin: number): number {
  return bin === 0 ? 0 : Math.round(2 ** ((bin - 0.5) / BINS_PER_DOUBLING));
}

/** A copy of sparse histogram `h` ([bin, count, …] ascending) with one more time in `bin`. */
export function withTime(h: readonly number[], ms: number): number[] {
  const bin = binOf(ms);
  const out = h.slice();
  let i = 0;
  while (i < out.length && out[i] < bin) i += 2;
  if (out[i] === bin) out[i + 1] += 1;
  else out.splice(i, 0, bin, 1);
  return out;
}

/** Adds sparse histogram `h` into dense counts per bin. */
export function addInto(sum: Map<number, number>, h: readonly number[]): void {
  for (let i = 0; i + 1 < h.length; i += 2) sum.set(h[i], (sum.get(h[i]) ?? 0) + h[i + 1]);
}

/** The q-quantile (0 < q ≤ 1) of the times counted: the value of the bin holding the ⌈q·n⌉-th smallest; null when none. */
export function quantile(sum: ReadonlyMap<number, number>, q: number): number | null {
  let n = 0;
  for (const count of sum.values()) n += count;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (const bin of [...sum.keys()].sort((a, b) => a - b)) {
    seen += sum.get(bin)!;
    if (seen >= rank) return binValue(bin);
  }
  return null;
}
