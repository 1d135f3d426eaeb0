// What `omni bench loyalty` needs from a system under test: a server it started itself, one
// session (one connection, one request in flight) per client, seeding every customer's balance
// and a final read of every balance. Targets: omnistream, PostgreSQL, Redis (one file each).

import type { TieredTarget, Tier } from '../shared/tiers.ts';
import type { PlannedRedemption } from './workload.ts';

export type RedeemAnswer = 'ok' | 'insufficient_points';

export interface LoyaltySession {
  /** One round trip. Any answer other than ok / insufficient_points throws. */
  redeem(r: PlannedRedemption): Promise<RedeemAnswer>;
  close(): Promise<void>;
}

export interface RunningLoyaltyTarget {
  /** The exact durability settings, for the report. */
  readonly settings: string;
  /** How the clients connect and what one redemption is, for the report. */
  readonly connections: string;
  /** Gives every customer `balance` points. */
  seed(customers: readonly string[], balance: number): Promise<void>;
  session(): Promise<LoyaltySession>;
  /** Every customer's final balance. */
  balances(customers: readonly string[]): Promise<Map<string, number>>;
  /** CPU seconds used so far by the server's processes (all threads), if known. */
  serverCpuSeconds(): number | undefined;
  /** Stops the server and removes its data dir. */
  stop(): Promise<void>;
}

export interface LoyaltyTargetKind<D extends string = string> extends TieredTarget {
  readonly durabilities: Readonly<Record<D, Tier>>;
  /** Why this target cannot run on this machine (binaries missing), or undefined. */
  unavailable(): string | undefined;
  start(durability: D, o: { concurrency: number }): Promise<RunningLoyaltyTarget>;
}
