// What `omni bench reservations` needs from a system under test: a server it started itself,
// one session (one connection, one request in flight) per client, seeding and a final read of
// every row. Targets: omnistream, PostgreSQL, Redis (one file each beside this one).

import type { TargetName, Tier } from '../shared/tiers.ts';
import type { PlannedReservation, RowState, WorkloadShape } from './workload.ts';

export type ReserveAnswer = 'ok' | 'insufficient_stock';

export interface TargetSession {
  /** One round trip. Any answer other than ok / insufficient_stock throws. */
  reserve(r: PlannedReservation): Promise<ReserveAnswer>;
  /** Commits or releases (as `r.end` says) in one round trip; false = the system did not know the reservation. */
  end(r: PlannedReservation): Promise<boolean>;
  close(): Promise<void>;
}

export interface RunningTarget {
  /** The exact durability settings, for the report. */
  readonly settings: string;
  /** How the clients connect, for the report. */
  readonly connections: string;
  seed(shape: WorkloadShape, stock: number): Promise<void>;
  session(client: number): Promise<TargetSession>;
  /** Every row's final state, keyed by rowKey. */
  snapshot(rows: ReadonlyArray<{ sku: string; location: string }>): Promise<Map<string, RowState>>;
  /** CPU seconds used so far by the server's processes (all threads), if known. */
  serverCpuSeconds(): number | undefined;
  /** Stops the server and removes its data dir. */
  stop(): Promise<void>;
}

export interface StartOptions {
  concurrency: number;
  runNo: number;
}

export interface TargetKind<D extends string = string> {
  readonly name: TargetName;
  /** Durability choices, in the order they are run, each with its tier (bench/shared/tiers.ts). */
  readonly durabilities: Readonly<Record<D, Tier>>;
  /** Why this target cannot run on this machine (binaries missing), or undefined. */
  unavailable(): string | undefined;
  start(durability: D, o: StartOptions): Promise<RunningTarget>;
}
