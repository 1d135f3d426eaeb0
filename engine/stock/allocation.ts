// Where a shipped order's lines come from: the fewest locations that can cover every line,
// and among those the nearest (least total haversine distance to the ship-to point); each
// line then takes from the nearest chosen location first.

export interface Candidate {
  id: string;
  km: number;
  /** sku → units available here. */
  available: Map<string, number>;
}

export interface Line {
  sku: string;
  qty: number;
}

/** Exhaustive search while the number of subsets stays below this; greedy beyond. */
const MAX_SUBSETS = 50_000;

export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function covers(chosen: Candidate[], lines: Line[]): boolean {
  for (const line of lines) {
    let sum = 0;
    for (const c of chosen) sum += c.available.get(line.sku) ?? 0;
    if (sum < line.qty) return false;
  }
  return true;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** The best set of `k` candidates (sorted nearest first), or undefined if none covers. */
function bestOfSize(cands: Candidate[], lines: Line[], k: number): Candidate[] | undefined {
  let best: Candidate[] | undefined;
  let bestKm = Infinity;
  const pick: number[] = [];
  const walk = (start: number, km: number) => {
    if (km >= bestKm) return; // candidates are sorted by distance: this branch only grows
    if (pick.length === k) {
      const chosen = pick.map((i) => cands[i]);
      if (covers(chosen, lines)) {
        best = chosen;
        bestKm = km;
      }
      return;
    }
    for (let i = start; i <= cands.length - (k - pick.length); i++) {
      pick.push(i);
      walk(i + 1, km + cands[i].km);
      pick.pop();
    }
  };
  walk(0, 0);
  return best;
}

/** Greedy set cover: the location covering most of what is still missing, nearest on ties. */
function greedy(cands: Candidate[], lines: Line[]): Candidate[] | undefined {
  const missing = new Map(lines.map((l) => [l.sku, l.qty]));
  const chosen: Candidate[] = [];
  const left = [...cands];
  while ([...missing.values()].some((q) => q > 0)) {
    let bestIdx = -1;
    let bestGain = 0;
    for (let i = 0; i < left.length; i++) {
      let gain = 0;
      for (const [sku, q] of missing) gain += Math.min(q, left[i].available.get(sku) ?? 0);
      if (gain > bestGain) {
        bestGain = gain;
        bestIdx = i;
      }
    }
    if (bestIdx < 0) return undefined;
    const c = left.splice(bestIdx, 1)[0];
    chosen.push(c);
    for (const [sku, q] of missing) missing.set(sku, Math.max(0, q - (c.available.get(sku) ?? 0)));
  }
  return chosen.sort((a, b) => a.km - b.km);
}

/** Chooses locations and splits each line across them; undefined if stock cannot cover it. */
export function allocateShipment(
  candidates: Candidate[],
  lines: Line[],
): Array<{ sku: string; qty: number; location: string }> | undefined {
  const cands = candidates
    .filter((c) => lines.some((l) => (c.available.get(l.sku) ?? 0) > 0))
    .sort((a, b) => a.km - b.km || (a.id < b.id ? -1 : 1));
  if (!covers(cands, lines)) return undefined;
  let chosen: Candidate[] | undefined;
  for (let k = 1; k <= cands.length && !chosen; k++) {
    if (binomial(cands.length, k) > MAX_SUBSETS) {
      chosen = greedy(cands, lines);
      break;
    }
    chosen = bestOfSize(cands, lines, k);
  }
  if (!chosen) return undefined;
  const out: Array<{ sku: string; qty: number; location: string }> = [];
  for (const line of lines) {
    let need = line.qty;
    for (const c of chosen) {
      if (need === 0) break;
      const take = Math.min(need, c.available.get(line.sku) ?? 0);
      if (take > 0) {
        out.push({ sku: line.sku, qty: take, location: c.id });
        need -= take;
      }
    }
  }
  return out;
}
