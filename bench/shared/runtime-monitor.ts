// What the runtime did while a phase ran: garbage-collection pauses (by kind), event-loop delay,
// heap growth and CPU time. Explains throughput dips and latency spikes in the engine figures.

import { monitorEventLoopDelay, PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BatchStats, Engine } from '../../engine/mod.ts';

export interface RuntimeSample {
  gcCount: number;
  gcTotalMs: number;
  gcMaxPauseMs: number;
  /** Pauses other than scavenges: mark-sweep-compact, incremental marking steps, weak callbacks. */
  majorGcCount: number;
  majorGcMaxMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  heapUsedMiB: number;
  /** CPU time of this process over the phase, as a share of one core (1.0 = one core busy). */
  cpuCores: number;
  /** Share of the phase the main thread was busy (1.0 = saturated: the main thread is the limit). */
  eventLoopUtilization: number;
}

const GC_MINOR = constants.NODE_PERFORMANCE_GC_MINOR;

export class RuntimeMonitor {
  private gcCount = 0;
  private gcTotal = 0;
  private gcMax = 0;
  private majorCount = 0;
  private majorMax = 0;
  private readonly observer: PerformanceObserver;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private readonly cpuStart = process.cpuUsage();
  private readonly wallStart = performance.now();
  private readonly eluStart = performance.eventLoopUtilization();

  constructor() {
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.onGc(e);
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.loop.enable();
  }

  private onGc(e: PerformanceEntry): void {
    this.gcCount++;
    this.gcTotal += e.duration;
    if (e.duration > this.gcMax) this.gcMax = e.duration;
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind !== undefined && kind !== GC_MINOR) {
      this.majorCount++;
      if (e.duration > this.majorMax) this.majorMax = e.duration;
    }
  }

  /** Stops observing and returns what was seen since construction. */
  stop(): RuntimeSample {
    // GC entries are delivered asynchronously; those of the last moments may be missed.
    const records = this.observer.takeRecords?.() ?? [];
    for (const e of records) this.onGc(e);
    this.observer.disconnect();
    this.loop.disable();
    const cpu = process.cpuUsage(this.cpuStart);
    const wallMs = performance.now() - this.wallStart;
    return {
      gcCount: this.gcCount,
      gcTotalMs: this.gcTotal,
      gcMaxPauseMs: this.gcMax,
      majorGcCount: this.majorCount,
      majorGcMaxMs: this.majorMax,
      loopDelayP99Ms: this.loop.percentile(99) / 1e6,
      loopDelayMaxMs: this.loop.max / 1e6,
      heapUsedMiB: process.memoryUsage().heapUsed / 1024 ** 2,
      cpuCores: (cpu.user + cpu.system) / 1000 / wallMs,
      eventLoopUtilization: performance.eventLoopUtilization(this.eluStart).utilization,
    };
  }
}

export function fmtRuntime(s: RuntimeSample): string {
  return (
    `GC ${s.gcCount}× (${s.gcTotalMs.toFixed(0)} ms total, longest ${s.gcMaxPauseMs.toFixed(1)} ms; ` +
    `non-scavenge ${s.majorGcCount}×, longest ${s.majorGcMaxMs.toFixed(1)} ms), ` +
    `event-loop delay p99 ${s.loopDelayP99Ms.toFixed(1)} ms / max ${s.loopDelayMaxMs.toFixed(1)} ms, ` +
    `heap ${s.heapUsedMiB.toFixed(0)} MiB, CPU ${(s.cpuCores * 100).toFixed(0)}% of a core, ` +
    `main thread busy ${(s.eventLoopUtilization * 100).toFixed(0)}%`
  );
}

/** A full collection before each measured phase, so garbage from generating events is not billed to the engine. */
export const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    return () => gc();
  } catch {
    return () => undefined;
  }
})();

export interface BatchSummary {
  batches: number;
  meanEvents: number;
  meanApplyMs: number;
  maxApplyMs: number;
  meanCommitMs: number;
  maxCommitMs: number;
}

/** The engine's per-batch figures (events, apply and commit time) over a phase. */
export class BatchRecorder {
  private n = 0;
  private events = 0;
  private apply = 0;
  private commit = 0;
  private maxApply = 0;
  private maxCommit = 0;
  private readonly off: () => void;
  constructor(engine: Pick<Engine, 'onBatch'>) {
    this.off = engine.onBatch((s: BatchStats) => {
      this.n++;
      this.events += s.events;
      this.apply += s.applyMs;
      this.commit += s.commitMs;
      this.maxApply = Math.max(this.maxApply, s.applyMs);
      this.maxCommit = Math.max(this.maxCommit, s.commitMs);
    });
  }
  stop(): BatchSummary {
    this.off();
    const n = Math.max(1, this.n);
    return { batches: this.n, meanEvents: this.events / n, meanApplyMs: this.apply / n, maxApplyMs: this.maxApply, meanCommitMs: this.commit / n, maxCommitMs: this.maxCommit };
  }
}
