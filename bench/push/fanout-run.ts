// One target's turn in `omni bench fanout`, built from the load generator's own pieces so that
// every target gets exactly the same client: the scenario's set-up bodies, the same subscribers
// (loadgen/subscriber-pool.ts, on the lean wire client), the same open-loop ingest (IngestDriver
// on an OpenLoopSchedule, POSTed by http-poster). The schedule runs warm-up + measured seconds
// in one go; at the warm-up boundary the counters are read and the latency histograms restart,
// so the warm-up is excluded without a pause in the load.

import { loadavg } from 'node:os';
import { httpPoster } from '../../loadgen/mod.ts';
import { IngestDriver } from '../../loadgen/mod.ts';
import { LatencyRecorder, epochMs, type LatencyMs } from '../../loadgen/mod.ts';
import type { Format } from '../../loadgen/mod.ts';
import { quietPushes, runTicks, setUp } from '../../loadgen/mod.ts';
import { openScenario } from '../../loadgen/mod.ts';
import { OpenLoopSchedule } from '../../loadgen/mod.ts';
import { SubscriberPool, type PoolSample } from '../../loadgen/mod.ts';
import type { RunningTarget } from './fanout-targets.ts';
import { fmtMs } from '../shared/report.ts';
import { processCpuSeconds } from '../shared/server-process.ts';
import { ThreadCpuMonitor, type ThreadCpu } from '../shared/thread-cpu.ts';

export interface FanoutRunOptions {
  subscribers: number;
  skus: number;
  rate: number;
  seconds: number;
  warmupS: number;
  format: Format;
  batch: number;
  connections: number;
  /** Subscriber worker threads. */
  workers: number;
  tickMs: number;
  /** Longest wait for the last answers and pushes after the schedule ends. */
  drainMs: number;
}

export interface TargetResult {
  target: string;
  durability: string;
  subscribers: number;
  /** Subscriptions that had their snapshot before the load started. */
  subscribed: number;
  windowS: number;
  ackedPerS: number;
  /** Updates received by all subscribers per second of the measured window. */
  deliveredPerS: number;
  /** Receive − update.ts, for updates received from the warm-up's end until the drain ended. */
  push: LatencyMs;
  /** Answer − scheduled time, for answers in the same span. */
  ack: LatencyMs;
  /** Updates that arrived after the schedule ended (what was still queued for the subscribers). */
  lateMessages: number;
  ingestErrors: number;
  /** Events never answered: still in flight after the drain, or never sent. */
  unanswered: number;
  errorCodes: Record<string, number>;
  firstFailure?: string;
  /** Events the in-flight cap held back, at most at once (0: the load generator kept up). */
  maxWaiting: number;
  subscriberErrors: number;
  errorSamples: string[];
  conflated: number;
  seqErrors: number;
  /** CPU per wall second over the window (1 = one core). */
  serverCpu: number | undefined;
  /** The server's threads over the window, busiest first. */
  serverThreads: ThreadCpu[];
  loadgenCpu: number;
  loadAverage: [number, number];
}

interface Mark {
  at: number;
  acked: number;
  received: number;
  cpu: NodeJS.CpuUsage;
  serverCpu: number | undefined;
}

export async function measureTarget(t: RunningTarget, o: FanoutRunOptions, runNo: number, log: (line: string) => void): Promise<TargetResult> {
  // The same ids, payloads and subscriber topics for every target (each has a fresh server).
  const idPrefix = `fo${runNo}`;
  const source = openScenario({ scenario: 'stock', skus: o.skus, idPrefix, releaseLag: Math.ceil(o.rate) + o.batch * o.connections });
  const topics = source.subscribers(o.subscribers).map((plan) => [plan.topics[0]]);
  const poster = httpPoster(t.url, t.token, o.format, o.connections);
  let pool: SubscriberPool | undefined;
  try {
    await setUp(source, poster.post, log);
    log(`subscribing ${o.subscribers} clients, one stock/<sku> topic each (${new Set(topics.flat()).size} distinct SKUs)…`);
    pool = await SubscriberPool.start({ url: t.url, format: o.format, topics, protocol: t.protocol }, o.workers);
    const subscribed = (await pool.sample()).snapshots;
    if (subscribed < topics.length) log(`warning: only ${subscribed} of ${topics.length} subscriptions got their snapshot`);

    const schedule = new OpenLoopSchedule(epochMs() + 20, o.rate, o.warmupS + o.seconds);
    const driver = new IngestDriver({ schedule, next: () => source.next(), post: poster.post, batch: o.batch, maxInFlight: o.connections, clock: epochMs });
    const push = new LatencyRecorder();
    let measuring = false;
    const live = pool;
    // Every sample drains the pool's interval histograms: keep what arrives once measuring.
    const sampler = {
      async sample(): Promise<PoolSample> {
        const s = await live.sample();
        if (measuring) push.add(s.interval);
        return s;
      },
    };
    const mark = async (): Promise<Mark> => {
      const s = await sampler.sample();
      return { at: epochMs(), acked: driver.snapshot().acked, received: s.received, cpu: process.cpuUsage(), serverCpu: processCpuSeconds(t.pid) };
    };
    const load0 = loadavg()[0];
    log(`${t.name}: ${o.rate.toLocaleString('en-US')} events/s for ${o.warmupS} s warm-up + ${o.seconds} s measured → ${t.url}`);
    const ticking = runTicks(schedule, driver, o.tickMs, new LatencyRecorder());

    let threads: ThreadCpuMonitor | undefined;
    const boundary = new Promise<Mark>((resolve) =>
      setTimeout(async () => {
        const m = await mark();
        threads = new ThreadCpuMonitor(t.pid);
        driver.interval.reset();
        measuring = true;
        resolve(m);
      }, Math.max(0, schedule.startMs + o.warmupS * 1000 - epochMs())),
    );
    let prev = 0;
    const progress = setInterval(() => {
      void sampler.sample().then((s) => {
        const c = driver.snapshot();
        log(`  [${((epochMs() - schedule.startMs) / 1000).toFixed(0).padStart(3)}s] acked ${c.acked.toLocaleString('en-US')} | ${(s.received - prev).toLocaleString('en-US')} msgs/s | push p99 ${fmtMs(s.interval.summary().p99)} ms${measuring ? '' : ' (warm-up)'} | errors ${c.errors + s.errors}`);
        prev = s.received;
      });
    }, 1000);
    let begin: Mark;
    try {
      await ticking;
      begin = await boundary;
    } finally {
      clearInterval(progress);
    }
    const end = await mark();
    const serverThreads = threads?.stop() ?? [];
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([driver.settled().then(() => true), new Promise<boolean>((resolve) => (drainTimer = setTimeout(() => resolve(false), o.drainMs)))]);
    clearTimeout(drainTimer);
    if (!drained) log(`warning: ${driver.snapshot().inFlight} requests still unanswered ${o.drainMs / 1000} s after the last send`);
    driver.abandonWaiting();
    await quietPushes(sampler, o.drainMs);
    const last = await sampler.sample();
    const final = await pool.stop();
    pool = undefined;
    const counts = driver.snapshot();
    const windowS = (end.at - begin.at) / 1000;
    const cpuS = (end.cpu.user + end.cpu.system - begin.cpu.user - begin.cpu.system) / 1e6;
    return {
      target: t.name,
      durability: t.durability,
      subscribers: o.subscribers,
      subscribed,
      windowS,
      ackedPerS: (end.acked - begin.acked) / windowS,
      deliveredPerS: (end.received - begin.received) / windowS,
      push: push.summary(),
      ack: driver.interval.summary(),
      lateMessages: last.received - end.received,
      ingestErrors: counts.errors,
      unanswered: counts.inFlight + counts.unsent,
      errorCodes: counts.errorCodes,
      firstFailure: counts.firstFailure,
      maxWaiting: counts.maxWaiting,
      subscriberErrors: final.errors,
      errorSamples: final.errorSamples ?? [],
      conflated: final.conflated ?? 0,
      seqErrors: final.seqErrors ?? 0,
      serverCpu: end.serverCpu !== undefined && begin.serverCpu !== undefined ? (end.serverCpu - begin.serverCpu) / windowS : undefined,
      serverThreads,
      loadgenCpu: cpuS / windowS,
      loadAverage: [load0, loadavg()[0]],
    };
  } finally {
    if (pool) await pool.stop().catch(() => undefined);
    poster.close();
  }
}
