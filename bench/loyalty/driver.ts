// The closed-loop driver of `omni bench loyalty`, the same for every target: C clients, each on
// its own session, each sending redemption after redemption. Redemptions are timed from send to
// answer in an HdrHistogram; only those answered inside the measured window (after the warm-up)
// count towards rates and latencies, while the ledger covers every answer of the run for the
// end-state check.

import { LatencyRecorder, type LatencyMs } from '../../loadgen/mod.ts';
import { MeasureWindow, type WindowCpu } from '../shared/measure-window.ts';
import type { LoyaltySession, RunningLoyaltyTarget } from './target.ts';
import { RedemptionLedger, RedemptionPlan, checkBalances, customersOf, type BalanceCheck, type RedemptionShape } from './workload.ts';

export interface LoyaltyDriveOptions {
  shape: RedemptionShape;
  startingBalance: number;
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  /** Redemption ids start with it. */
  idPrefix: string;
}

export interface LoyaltyDriveResult extends WindowCpu {
  seconds: number;
  /** Redemptions answered in the window, refused ones included. */
  ops: number;
  opsPerS: number;
  rejections: number;
  latency: LatencyMs;
  /** Totals over the whole run, warm-up included. */
  totals: ReturnType<RedemptionLedger['totals']>;
  check: BalanceCheck;
}

export async function driveRedemptions(target: RunningLoyaltyTarget, o: LoyaltyDriveOptions): Promise<LoyaltyDriveResult> {
  const sessions: LoyaltySession[] = [];
  const ledger = new RedemptionLedger();
  const latency = new LatencyRecorder();
  let ops = 0;
  let rejections = 0;
  try {
    for (let i = 0; i < o.concurrency; i++) sessions.push(await target.session());
    const window = new MeasureWindow(o.warmupSeconds, o.seconds, () => target.serverCpuSeconds());
    const cpu = await window.runClients(o.concurrency, async (i) => {
      const plan = new RedemptionPlan(o.shape, i, o.idPrefix);
      while (window.running()) {
        const r = plan.next();
        const a = performance.now();
        const answer = await sessions[i].redeem(r);
        const b = performance.now();
        if (answer === 'ok') ledger.redeemed(r);
        else ledger.refused(r);
        if (!window.inWindow(b)) continue;
        ops++;
        latency.recordSince(a, b);
        if (answer !== 'ok') rejections++;
      }
    });
    const customers = customersOf(o.shape);
    const check = checkBalances({ customers, startingBalance: o.startingBalance, ledger, observed: await target.balances(customers) });
    return { seconds: o.seconds, ops, opsPerS: ops / o.seconds, rejections, latency: latency.summary(), ...cpu, totals: ledger.totals(), check };
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
}
