// The reservation workload every target of `omni bench reservations` runs, and the check of its
// outcome. Each client is a closed loop of reserve(id, sku, location, qty 1..3) followed by
// commit (70%) or release (30%); SKU popularity is Zipf(s=1) as in loadgen/stock-workload.ts. The
// ledger records what each system said yes or no to; from it and the starting stock the final
// state of every row is predicted exactly, which is what `checkStock` compares against.

import { ZipfSampler, locationName, prng, skuName } from '../../loadgen/mod.ts';

export const COMMIT_SHARE = 0.7;
export const MAX_QTY = 3;

export interface WorkloadShape {
  skus: number;
  locations: number;
  seed: number;
}

export interface PlannedReservation {
  id: string;
  sku: string;
  location: string;
  qty: number;
  end: 'commit' | 'release';
}

/** Every (sku, location) row of a shape, SKU-major. */
export function rowsOf(shape: Pick<WorkloadShape, 'skus' | 'locations'>): Array<{ sku: string; location: string }> {
  const rows: Array<{ sku: string; location: string }> = [];
  for (let s = 0; s < shape.skus; s++) for (let l = 0; l < shape.locations; l++) rows.push({ sku: skuName(s), location: locationName(l) });
  return rows;
}

export const rowKey = (sku: string, location: string) => `${sku}@${location}`;

/**
 * One client's reservations, deterministic for (seed, client). Rank k of the Zipf law is SKU k:
 * unlike the engine workload there is no key-space layout to spread, so no shuffle is needed.
 */
export class ReservationPlan {
  private readonly rand: () => number;
  private readonly skuNames: string[];
  private readonly locNames: string[];
  private n = 0;

  constructor(
    private readonly shape: WorkloadShape,
    private readonly zipf: ZipfSampler,
    private readonly client: number,
    private readonly idPrefix: string,
  ) {
    // Distinct streams per client: a multiplicative spread of the client number into the seed.
    this.rand = prng((shape.seed ^ Math.imul(client + 1, 0x9e3779b1)) >>> 0);
    this.skuNames = Array.from({ length: shape.skus }, (_, i) => skuName(i));
    this.locNames = Array.from({ length: shape.locations }, (_, i) => locationName(i));
  }

  next(): PlannedReservation {
    const sku = this.skuNames[this.zipf.sample(this.rand())];
    const location = this.locNames[Math.floor(this.rand() * this.shape.locations)];
    const qty = 1 + Math.floor(this.rand() * MAX_QTY);
    const end = this.rand() < COMMIT_SHARE ? 'commit' : 'release';
    return { id: `${this.idPrefix}-c${this.client}-${this.n++}`, sku, location, qty, end };
  }
}

/** What one row saw, from the clients' side: only answers the system gave count. */
export interface RowLedger {
  reserves: number;
  reservedQty: number;
  commits: number;
  committedQty: number;
  releases: number;
  releasedQty: number;
  rejections: number;
  /** commit/release answered unknown_reservation: a reservation the system lost. */
  lostEnds: number;
}

export class Ledger {
  readonly rows = new Map<string, RowLedger>();

  private row(r: PlannedReservation): RowLedger {
    const key = rowKey(r.sku, r.location);
    let row = this.rows.get(key);
    if (!row) {
      row = { reserves: 0, reservedQty: 0, commits: 0, committedQty: 0, releases: 0, releasedQty: 0, rejections: 0, lostEnds: 0 };
      this.rows.set(key, row);
    }
    return row;
  }

  reserved(r: PlannedReservation): void {
    const row = this.row(r);
    row.reserves++;
    row.reservedQty += r.qty;
  }

  rejected(r: PlannedReservation): void {
    this.row(r).rejections++;
  }

  ended(r: PlannedReservation, ok: boolean): void {
    const row = this.row(r);
    if (!ok) row.lostEnds++;
    else if (r.end === 'commit') {
      row.commits++;
      row.committedQty += r.qty;
    } else {
      row.releases++;
      row.releasedQty += r.qty;
    }
  }

  totals(): RowLedger {
    const t: RowLedger = { reserves: 0, reservedQty: 0, commits: 0, committedQty: 0, releases: 0, releasedQty: 0, rejections: 0, lostEnds: 0 };
    for (const row of this.rows.values()) for (const k of Object.keys(t) as Array<keyof RowLedger>) t[k] += row[k];
    return t;
  }
}

/** A row as the system reports it at the end. */
export interface RowState {
  onHand: number;
  reserved: number;
  /** If the system reports it (omnistream does); otherwise derived. */
  available?: number;
}

export interface CheckInput {
  rows: ReadonlyArray<{ sku: string; location: string }>;
  startingStock: number;
  ledger: Ledger;
  observed: ReadonlyMap<string, RowState>;
  /** Clients that ran concurrently: bounds how much stock could be held at any moment. */
  concurrency: number;
}

export interface CheckResult {
  ok: boolean;
  rowsChecked: number;
  /** The first few problems, human-readable. */
  problems: string[];
  problemCount: number;
}

/**
 * The end state must be exactly what the acknowledged operations imply, row by row:
 *   onHand   = start − Σ committed qty
 *   reserved = Σ reserved qty − Σ committed qty − Σ released qty
 * and never oversold (0 ≤ reserved ≤ onHand). A system that said no too eagerly would pass that,
 * so rejections are checked too: at most `concurrency` holds of ≤ MAX_QTY units exist at once, so
 * while start − Σ committed − concurrency·MAX_QTY ≥ MAX_QTY a row could never lack stock.
 */
export function checkStock(input: CheckInput): CheckResult {
  const problems: string[] = [];
  const problem = (text: string) => void problems.push(text);
  const empty: RowLedger = { reserves: 0, reservedQty: 0, commits: 0, committedQty: 0, releases: 0, releasedQty: 0, rejections: 0, lostEnds: 0 };
  for (const { sku, location } of input.rows) {
    const key = rowKey(sku, location);
    const l = input.ledger.rows.get(key) ?? empty;
    const seen = input.observed.get(key);
    if (!seen) {
      problem(`${key}: missing from the system's state`);
      continue;
    }
    const onHand = input.startingStock - l.committedQty;
    const reserved = l.reservedQty - l.committedQty - l.releasedQty;
    if (seen.onHand !== onHand) problem(`${key}: onHand ${seen.onHand}, expected ${onHand}`);
    if (seen.reserved !== reserved) problem(`${key}: reserved ${seen.reserved}, expected ${reserved}`);
    if (seen.reserved < 0 || seen.reserved > seen.onHand) problem(`${key}: oversold (onHand ${seen.onHand}, reserved ${seen.reserved})`);
    if (seen.available !== undefined && seen.available !== Math.max(0, seen.onHand - seen.reserved)) {
      problem(`${key}: available ${seen.available} ≠ onHand − reserved = ${seen.onHand - seen.reserved}`);
    }
    if (l.lostEnds > 0) problem(`${key}: ${l.lostEnds} commit/release answered unknown_reservation`);
    if (l.rejections > 0 && input.startingStock - l.committedQty - input.concurrency * MAX_QTY >= MAX_QTY) {
      problem(`${key}: ${l.rejections} reserves rejected although stock never ran short`);
    }
  }
  const known = new Set(input.rows.map((r) => rowKey(r.sku, r.location)));
  for (const key of input.ledger.rows.keys()) if (!known.has(key)) problem(`${key}: not a row of the workload`);
  return { ok: problems.length === 0, rowsChecked: input.rows.length, problems: problems.slice(0, 10), problemCount: problems.length };
}
