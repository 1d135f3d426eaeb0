// The recommender's knobs. Defaults were tuned on an internal time split of the YooChoose 100k
// sample (the last 20% of train_tr's sessions as validation); see bench/recs/tune.ts.
// The layout options (chunk size, caps) shape the stored records and the popularity half-life
// is the unit of the stored scores: change those only on an empty store; the rest may change
// between runs.

export type ActivityKind = 'viewed' | 'carted' | 'purchased';

export const KIND_CODES: Readonly<Record<ActivityKind, number>> = { viewed: 0, carted: 1, purchased: 2 };
export const KINDS: readonly ActivityKind[] = ['viewed', 'carted', 'purchased'];

export interface RecommenderOptions {
  /** Neighbour sessions the item scores come from (k). */
  neighbours?: number;
  /** Most recent sessions sharing an item with the current one that are compared (m). */
  sampleSize?: number;
  /** Latest distinct items of the current session whose sessions are candidates. */
  queryItems?: number;
  /** Activities kept per session (the oldest drop out). */
  sessionKept?: number;
  /** Sessions kept per item in its index (the oldest drop out; a multiple of `chunkSize`). */
  itemSessionsKept?: number;
  /** Entries per item-index chunk record. */
  chunkSize?: number;
  /** Position decay of the current session's items, in clicks (λ_spw; 0: no decay). */
  positionDecay?: number;
  /** Weight of a neighbour by how recent its best match in the current session is (λ_ipw; 0: off). */
  matchDecay?: number;
  /** Weight of a neighbour's item by its distance from the neighbour's match, in clicks (λ_inh; 0: off). */
  neighbourDecay?: number;
  /** Neighbour-session recency decay, in ms (λ_snh; 0: off). */
  recencyMs?: number;
  /** Extra score for items of the current session, relative to the top neighbour score, decayed by position. */
  reminder?: number;
  /** Position decay of the reminder, in clicks. */
  reminderDecay?: number;
  /** The reminder of the session's last item, as a multiple of `reminder`. */
  reminderLast?: number;
  /** The least reminder of any item of the current session, however far back, as a share of `reminder`. */
  reminderFloor?: number;
  /** Weight of the share of the k neighbours that had an item (their similarity and distances aside), relative to the top neighbour score (0: off). */
  coverageWeight?: number;
  /** Weight of a neighbour's items clicked before where it meets the current session, relative to those after (1: symmetric). */
  backwardWeight?: number;
  /** IDF weighting of shared items: (sessions with the item)^−idfPower (0: off). */
  idfPower?: number;
  /** Weight of the sequential-rules score (see sequence.ts), relative to the top neighbour score (0: off). */
  sequenceWeight?: number;
  /** Clicks after the session's last item that the sequential rules look at, weighted 1/distance. */
  sequenceWindow?: number;
  /** Weight of an activity by kind, in the session's profile, the neighbours' items and popularity. */
  kindWeights?: Partial<Record<ActivityKind, number>>;
  /** Half-life of the popularity counts, in event-time ms. */
  popularityHalfLifeMs?: number;
  /** Most popular items kept for filling lists and for empty sessions. */
  popularKept?: number;
}

export interface ResolvedOptions {
  neighbours: number;
  sampleSize: number;
  queryItems: number;
  sessionKept: number;
  itemSessionsKept: number;
  chunkSize: number;
  positionDecay: number;
  matchDecay: number;
  neighbourDecay: number;
  recencyMs: number;
  reminder: number;
  reminderDecay: number;
  reminderLast: number;
  reminderFloor: number;
  coverageWeight: number;
  backwardWeight: number;
  idfPower: number;
  sequenceWeight: number;
  sequenceWindow: number;
  /** Indexed by kind code. */
  kindWeights: [number, number, number];
  popularityHalfLifeMs: number;
  popularKept: number;
  /** The click-distance decays above, tabled for distances 0..sessionKept. */
  positionTable: Float64Array;
  matchTable: Float64Array;
  neighbourTable: Float64Array;
  reminderTable: Float64Array;
}

const DAY = 86_400_000;

const DEFAULT_VALUES = {
  // The query's cost is mostly reading neighbour sessions. With the coverage and reminder below,
  // 100 neighbours of 300 candidates score HR@20 / MRR@20 0.6838 / 0.3797 on the tuning split
  // (0.6981 / 0.3793 on train_valid), 50 of 200 0.6789 / 0.3787 (0.6922 / 0.3791), at about
  // half the query time: the p99 target (≤ 1 ms at 100k sessions on a shared 2-core machine)
  // had 0.4–0.6 ms measured at 50, too little room to double it (docs/benchmarks.md, "Third
  // tuning round"). (500 candidates: +0.001, a third slower.)
  neighbours: 50,
  sampleSize: 200,
  // With a one-click position decay, items further back hardly weigh: their sessions add nothing.
  queryItems: 5,
  sessionKept: 50,
  itemSessionsKept: 512,
  // Smaller than 64 because the head, rewritten on every click, carries the newest chunk: in
  // `omni bench recs` 32 cost about 0.8 µs less per event, with the same query latency.
  chunkSize: 32,
  positionDecay: 1.0,
  matchDecay: 1.0,
  neighbourDecay: 2.0,
  recencyMs: 10 * DAY,
  // The reminder and the sequential rules tuned together on the split (HR@20 / MRR@20 0.6671 /
  // 0.3754 → 0.6698 / 0.3761), neither reading anything more. A symmetric neighbour window
  // (backwardWeight 1) did best. The last item first, a floor for items far back and the
  // neighbours' coverage then took 100 neighbours from 0.6781 / 0.3775 to 0.6837 / 0.3789, and
  // IDF to 0.6838 / 0.3797; with 50 neighbours the same took 0.6698 / 0.3761 to 0.6789 / 0.3787
  // (docs/benchmarks.md).
  reminder: 0.4,
  reminderDecay: 2,
  reminderLast: 3,
  reminderFloor: 0.375,
  coverageWeight: 0.6,
  backwardWeight: 1,
  idfPower: 0.4,
  sequenceWeight: 0.1,
  sequenceWindow: 5,
  kindWeights: [1, 2, 3],
  popularityHalfLifeMs: DAY,
  popularKept: 64,
} as const;

function table(lambda: number, n: number): Float64Array {
  const t = new Float64Array(n + 1);
  for (let d = 0; d <= n; d++) t[d] = decay(d, lambda);
  return t;
}

function withTables(r: Omit<ResolvedOptions, 'positionTable' | 'matchTable' | 'neighbourTable' | 'reminderTable'>): ResolvedOptions {
  const n = r.sessionKept;
  return {
    ...r,
    positionTable: table(r.positionDecay, n),
    matchTable: table(r.matchDecay, n),
    neighbourTable: table(r.neighbourDecay, n),
    reminderTable: table(r.reminderDecay, n),
  };
}

export const DEFAULTS: ResolvedOptions = withTables({ ...DEFAULT_VALUES, kindWeights: [...DEFAULT_VALUES.kindWeights] });

// Options objects are usually one shared constant: resolve each once (so mutate none after use).
const resolved = new WeakMap<RecommenderOptions, ResolvedOptions>();

export function resolveOptions(options?: RecommenderOptions): ResolvedOptions {
  if (options === undefined) return DEFAULTS;
  const hit = resolved.get(options);
  if (hit !== undefined) return hit;
  const d = DEFAULTS;
  const kw = options.kindWeights ?? {};
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? d.chunkSize));
  const r = withTables({
    neighbours: options.neighbours ?? d.neighbours,
    sampleSize: options.sampleSize ?? d.sampleSize,
    // One bit per item in the neighbour search's bookkeeping.
    queryItems: Math.min(30, Math.max(1, options.queryItems ?? d.queryItems)),
    sessionKept: Math.max(1, options.sessionKept ?? d.sessionKept),
    // Whole chunks only, so the ring of chunk slots holds exactly the cap.
    itemSessionsKept: Math.max(1, Math.ceil((options.itemSessionsKept ?? d.itemSessionsKept) / chunkSize)) * chunkSize,
    chunkSize,
    positionDecay: options.positionDecay ?? d.positionDecay,
    matchDecay: options.matchDecay ?? d.matchDecay,
    neighbourDecay: options.neighbourDecay ?? d.neighbourDecay,
    recencyMs: options.recencyMs ?? d.recencyMs,
    reminder: options.reminder ?? d.reminder,
    reminderDecay: options.reminderDecay ?? d.reminderDecay,
    reminderLast: options.reminderLast ?? d.reminderLast,
    reminderFloor: options.reminderFloor ?? d.reminderFloor,
    coverageWeight: options.coverageWeight ?? d.coverageWeight,
    backwardWeight: options.backwardWeight ?? d.backwardWeight,
    idfPower: Math.max(0, options.idfPower ?? d.idfPower),
    sequenceWeight: options.sequenceWeight ?? d.sequenceWeight,
    sequenceWindow: Math.max(1, Math.floor(options.sequenceWindow ?? d.sequenceWindow)),
    kindWeights: [kw.viewed ?? d.kindWeights[0], kw.carted ?? d.kindWeights[1], kw.purchased ?? d.kindWeights[2]],
    popularityHalfLifeMs: options.popularityHalfLifeMs ?? d.popularityHalfLifeMs,
    popularKept: options.popularKept ?? d.popularKept,
  });

  resolved.set(options, r);
  return r;
}

/** A tabled decay at a click distance; records written under a larger `sessionKept` may go past the table. */
export function at(table: Float64Array, distance: number): number {
  return table[distance < table.length ? distance : table.length - 1];
}

/** exp(-distance / lambda), or 1 when the decay is off. */
export function decay(distance: number, lambda: number): number {
  return lambda > 0 ? Math.exp(-distance / lambda) : 1;
}
