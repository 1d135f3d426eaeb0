// The redemption workload every target of `omni bench loyalty` runs, and the check of its outcome.
// Each client is a closed loop of redeem(customer, points 1..maxPoints), the customer picked
// uniformly: with few customers (contended) every client fights over the same balances, with
// many (spread) they rarely meet. The ledger records what each system said yes or no to; from it
// and the starting balance every customer's final balance is predicted exactly.

import { prng } from '../../loadgen/mod.ts';

export interface RedemptionShape {
  customers: number;
  /** Each redemption asks for 1..maxPoints points. */
  maxPoints: number;
  seed: number;
}

export interface PlannedRedemption {
  /** The redemption's id, unique in the run (the event id too, for omnistream). */
  id: string;
  customer: string;
  points: number;
}

export const customerName = (i: number) => `cust${i}`;

export const customersOf = (shape: Pick<RedemptionShape, 'customers'>) => Array.from({ length: shape.customers }, (_, i) => customerName(i));

/** One client's redemptions, deterministic for (seed, client). */
export class RedemptionPlan {
  private readonly rand: () => number;
  private n = 0;

  constructor(
    private readonly shape: RedemptionShape,
    private readonly client: number,
    private readonly idPrefix: string,
  ) {
    // Distinct streams per client: a multiplicative spread of the client number into the seed.
    this.rand = prng((shape.seed ^ Math.imul(client + 1, 0x9e3779b1)) >>> 0);
  }

  next(): PlannedRedemption {
    const customer = customerName(Math.floor(this.rand() * this.shape.customers));
    const points = 1 + Math.floor(this.rand() * this.shape.maxPoints);
    return { id: `${this.idPrefix}-c${this.client}-${this.n++}`, customer, points };
  }
}

/** What one customer saw, from the clients' side: only answers the system gave count. */
export interface CustomerLedger {
  redemptions: number;
  redeemedPoints: number;
  rejections: number;
  /** The fewest points a refused redemption asked for (Infinity: none refused). */
  leastRefused: number;
}

export class RedemptionLedger {
  readonly customers = new Map<string, CustomerLedger>();

  private of(customer: string): CustomerLedger {
    let c = this.customers.get(customer);
    if (!c) {
      c = { redemptions: 0, redeemedPoints: 0, rejections: 0, leastRefused: Infinity };
      this.customers.set(customer, c);
    }
    return c;
  }

  redeemed(r: PlannedRedemption): void {
    const c = this.of(r.customer);
    c.redemptions++;
    c.redeemedPoints += r.points;
  }

  refused(r: PlannedRedemption): void {
    const c = this.of(r.customer);
    c.rejections++;
    c.leastRefused = Math.min(c.leastRefused, r.points);
  }

  totals(): { redemptions: number; redeemedPoints: number; rejections: number } {
    const t = { redemptions: 0, redeemedPoints: 0, rejections: 0 };
    for (const c of this.customers.values()) {
      t.redemptions += c.redemptions;
      t.redeemedPoints += c.redeemedPoints;
      t.rejections += c.rejections;
    }
    return t;
  }
}

export interface BalanceCheckInput {
  customers: readonly string[];
  startingBalance: number;
  ledger: RedemptionLedger;
  /** Each customer's balance as the system reports it at the end. */
  observed: ReadonlyMap<string, number>;
}

export interface BalanceCheck {
  ok: boolean;
  customersChecked: number;
  /** The first few problems, human-readable. */
  problems: string[];
  problemCount: number;
}

/**
 * Every final balance must be exactly start − Σ acknowledged redemptions, never below zero. A
 * system that said no too eagerly would pass that, so refusals are checked too: balances only go
 * down, so a refusal of w points is wrong if the final balance still covers w.
 */
export function checkBalances(input: BalanceCheckInput): BalanceCheck {
  const problems: string[] = [];
  for (const customer of input.customers) {
    const l = input.ledger.customers.get(customer);
    const seen = input.observed.get(customer);
    if (seen === undefined) {
      problems.push(`${customer}: missing from the system's state`);
      continue;
    }
    const expected = input.startingBalance - (l?.redeemedPoints ?? 0);
    if (seen !== expected) problems.push(`${customer}: balance ${seen}, expected ${expected}`);
    if (seen < 0) problems.push(`${customer}: overdrawn (balance ${seen})`);
    if (l && l.rejections > 0 && seen >= l.leastRefused) problems.push(`${customer}: refused ${l.leastRefused} points although ${seen} are still there`);
  }
  const known = new Set(input.customers);
  for (const customer of input.ledger.customers.keys()) if (!known.has(customer)) problems.push(`${customer}: not a customer of the workload`);
  return { ok: problems.length === 0, customersChecked: input.customers.length, problems: problems.slice(0, 10), problemCount: problems.length };
}
