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

export interface DriveOptions {
  shape: WorkloadShape;
  stock: number;
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  /** Reservation ids start with it (unique per run). */
  idPrefix: string;
}

export interface DriveResult {
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
  /** Over the window: cores used by this process (the client) and by the server's processes. */
  clientCpuCores: number;
  serverCpuCores?: number;
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
  let broken = false;
  try {
    for (let i = 0; i < o.concurrency; i++) sessions.push(await target.session(i));

    const start = performance.now();
    const from = start + o.warmupSeconds * 1000;
    const until = from + o.seconds * 1000;
    const inWindow = (t: number) => t >= from && t < until;
    // CPU is sampled at the window's edges by timers; a late timer shifts both samples alike.
    let cpu0 = process.cpuUsage();
    let server0 = target.serverCpuSeconds();
    let at0 = start;
    let cpu1: NodeJS.CpuUsage | undefined;
    let server1: number | undefined;
    let at1 = until;
    const t0 = setTimeout(() => {
      cpu0 = process.cpuUsage();
      server0 = target.serverCpuSeconds();
      at0 = performance.now();
    }, o.warmupSeconds * 1000);
    const t1 = setTimeout(() => {
      cpu1 = process.cpuUsage(cpu0);
      server1 = target.serverCpuSeconds();
      at1 = performance.now();
    }, (o.warmupSeconds + o.seconds) * 1000);

    const client = async (i: number) => {
      const plan = new ReservationPlan(o.shape, zipf, i, o.idPrefix);
      const session = sessions[i];
      while (!broken && performance.now() < until) {
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
    await Promise.all(
      Array.from({ length: o.concurrency }, (_, i) =>
        client(i).catch((error: unknown) => {
          broken = true; // one failed client voids the comparison: stop the others too
          throw error;
        }),
      ),
    ).finally(() => {
      clearTimeout(t0);
      clearTimeout(t1);
    });

    if (cpu1 === undefined) {
      // Every client was done before the end-of-window timer ran: sample now.
      cpu1 = process.cpuUsage(cpu0);
      server1 = target.serverCpuSeconds();
      at1 = performance.now();
    }
    const seconds = o.seconds;
    const cpu = cpu1;
    const cpuMs = Math.max(1, at1 - at0);
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
      clientCpuCores: (cpu.user + cpu.system) / 1000 / cpuMs,
      serverCpuCores: server0 !== undefined && server1 !== undefined ? (server1 - server0) / (cpuMs / 1000) : undefined,
      totals: ledger.totals(),
      check,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  }
}
