// The closed-loop driver of `omni bench reservations`, the same for every target: C clients,
// each on its own session, each running reserve → commit/release round trip after round trip.
// Operations are timed from send to answer in HdrHistograms; only those answered inside the
// measured window (after the warm-up) count towards rates and latencies. When the window ends a
// client still ends its open reservation, so the final state holds no stray holds, and the
// ledger covers every answer of the whole run (warm-up included) for the end-state check.

import { LatencyRecorder, type LatencyMs } from '../../loadgen/mod.ts';
import { Ledger, ReservationPlan, checkStock, rowsOf, type CheckResult, type WorkloadShape } from './workload.ts';
import type { RunningTarget, TargetSession } from './target.ts';
import { ZipfSampler } from '../../loadgen/mod.ts';
import { MeasureWindow, type WindowCpu } from '../shared/measure-window.ts';

export interface DriveOptions {
  shape: WorkloadShape;
  stock: number;
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  /** Reservation ids start with it (unique per run). */
  idPrefix: string;
}

export interface DriveResult extends WindowCpu {
  seconds: number;
  /** Reserves, commits and releases answered in the window (rejected reserves included). */
  ops: number;
  opsPerS: number;
  /** Reservations ended (committed or released) in the window. */
  reservationsPerS: number;
  commits: number;
  releases: number;
  rejections: number;
  latency: LatencyMs;
  reserveLatency: LatencyMs;
  endLatency: LatencyMs;
  /** Totals over the whole run, warm-up included. */
  totals: ReturnType<Ledger['totals']>;
  check: CheckResult;
}

export async function driveReservations(target: RunningTarget, o: DriveOptions): Promise<DriveResult> {
  const zipf = new ZipfSampler(o.shape.skus, 1);
  const sessions: TargetSession[] = [];
  const ledger = new Ledger();
  const all = new LatencyRecorder();
  const reserveLat = new LatencyRecorder();
  const endLat = new LatencyRecorder();
  let ops = 0;
  let commits = 0;
  let releases = 0;
  let rejections = 0;
  try {
    for (let i = 0; i < o.concurrency; i++) sessions.push(await target.session(i));

    const window = new MeasureWindow(o.warmupSeconds, o.seconds, () => target.serverCpuSeconds());
    const inWindow = (t: number) => window.inWindow(t);

    const client = async (i: number) => {
      const plan = new ReservationPlan(o.shape, zipf, i, o.idPrefix);
      const session = sessions[i];
      while (window.running()) {
        const r = plan.next();
        const a = performance.now();
        const answer = await session.reserve(r);
        const b = performance.now();
        if (inWindow(b)) {
          ops++;
          all.recordSince(a, b);
          reserveLat.recordSince(a, b);
        }
        if (answer === 'insufficient_stock') {
          ledger.rejected(r);
          if (inWindow(b)) rejections++;
          continue;
        }
        ledger.reserved(r);
        const ok = await session.end(r);
        const c = performance.now();
        ledger.ended(r, ok);
        if (inWindow(c)) {
          ops++;
          all.recordSince(b, c);
          endLat.recordSince(b, c);
          if (ok && r.end === 'commit') commits++;
          else if (ok) releases++;
        }
      }
    };
    const cpu = await window.runClients(o.concurrency, client);
    const seconds = o.seconds;
    const rows = rowsOf(o.shape);
    const check = checkStock({ rows, startingStock: o.stock, ledger, observed: await target.snapshot(rows), concurrency: o.concurrency });
    return {
      seconds,
      ops,
      opsPerS: ops / seconds,
      reservationsPerS: (commits + releases) / seconds,
      commits,
      releases,
      rejections,
      latency: all.summary(),
      reserveLatency: reserveLat.summary(),
      endLatency: endLat.summary(),
      ...cpu,
      totals: ledger.totals(),
      check,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
}
