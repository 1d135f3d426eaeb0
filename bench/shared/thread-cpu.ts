// CPU time per thread of a process, from /proc/PID/task (Linux only). With the engine on a
// thread of its own, "the process used 1.6 cores" does not say which thread is the limit: this
// does — the main thread (requests, fan-out), the engine's thread (apply, commit), LMDB's write
// thread, V8's GC helpers — and gives per-event costs per thread (CPU µs ÷ events).

import { readFileSync, readdirSync } from 'node:fs';

interface ThreadTimes {
  name: string;
  /** user + system, seconds. */
  cpuS: number;
}

function readThreads(pid: number): Map<number, ThreadTimes> {
  const out = new Map<number, ThreadTimes>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name sits in parentheses and may hold spaces; utime and stime follow the last ')'.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // USER_HZ is 100 on every mainstream Linux build.
      out.set(Number(tid), { name, cpuS: (Number(fields[11]) + Number(fields[12])) / 100 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

export interface ThreadCpu {
  tid: number;
  name: string;
  /** CPU over the span as a share of one core (1.0 = that thread busy throughout). */
  cores: number;
}

/** From construction to `stop()`: each thread's CPU, busiest first (threads under 2% left out). */
export class ThreadCpuMonitor {
  private readonly start: Map<number, ThreadTimes>;
  private readonly startedAt = performance.now();
  constructor(private readonly pid: number = process.pid) {
    this.start = readThreads(pid);
  }
  stop(): ThreadCpu[] {
    const wallS = (performance.now() - this.startedAt) / 1000;
    const rows: ThreadCpu[] = [];
    for (const [tid, t] of readThreads(this.pid)) {
      const cores = (t.cpuS - (this.start.get(tid)?.cpuS ?? 0)) / wallS;
      // The main thread's tid is the pid: named so, whatever the kernel calls it.
      if (cores >= 0.02) rows.push({ tid, name: tid === this.pid ? 'main' : t.name, cores });
    }
    return rows.sort((a, b) => b.cores - a.cores);
  }
}

/** "main 98%, engine 71%, …" with each thread's CPU µs per event when `eventsPerS` is given. */
export function fmtThreadCpu(threads: ThreadCpu[], eventsPerS?: number): string {
  if (threads.length === 0) return 'n/a (no /proc)';
  return threads
    .slice(0, 6)
    .map((t) => `${t.name} ${(t.cores * 100).toFixed(0)}%${eventsPerS ? ` (${((t.cores * 1e6) / eventsPerS).toFixed(2)} µs/event)` : ''}`)
    .join(', ');
}

/**
 * CPU µs per event of the main thread and of the busiest other thread (with the engine on a
 * thread of its own, that one is the engine's thread; with one thread, LMDB's or a GC helper).
 */
export function threadCosts(threads: ThreadCpu[], eventsPerS: number): { mainUsPerEvent: number; otherUsPerEvent: number } {
  const us = (t: ThreadCpu | undefined) => ((t?.cores ?? 0) * 1e6) / eventsPerS;
  return { mainUsPerEvent: us(threads.find((t) => t.name === 'main')), otherUsPerEvent: us(threads.find((t) => t.name !== 'main')) };
}
