// Part 2 of `omni bench routing`: the real engine (LMDB, group commit, the chosen durability)
// with N agents online takes `service.requested` open-loop at a fixed rate. The bench plays the
// agent desks from the engine's outputs (Engine.onOutput, as the push layer hears them): each
// offer on `agent/<id>` is accepted at once, each assignment completed after a think time.
// Latency counts from a request's *scheduled* send time, so a stalled engine cannot hide.

import { defaultProcessors, openEngine, type Durability, type InputEvent, type Output } from '../../engine/mod.ts';
import { latencyHistogram, summariseLatency, type LatencySummary } from '../shared/report.ts';
import { offersIn, RoutingWorkload } from './workload.ts';
import { BatchRecorder, collectGarbage, RuntimeMonitor, type BatchSummary, type RuntimeSample } from '../shared/runtime-monitor.ts';
import { freshDir, removeDir } from '../shared/server-process.ts';
import { countErrors, prng } from '../../loadgen/mod.ts';

export interface SustainedOptions {
  agents: number;
  topics: number;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  durability: Durability;
  thinkMinMs: number;
  thinkMaxMs: number;
}

export interface SustainedResult {
  durability: Durability;
  setupMs: number;
  targetRequestsPerS: number;
  /** Offers that reached their agent in the measured window, per second. */
  offersPerS: number;
  /** Events of every kind (requested, accepted, completed) answered in the window, per second. */
  eventsPerS: number;
  requestToOffer: LatencySummary;
  acceptToAssigned: LatencySummary;
  /** Largest delay between a request's scheduled and actual send (the event loop was busy). */
  maxSendLagMs: number;
  /** After the schedule ended: how long until every request had its offer. */
  drainMs: number;
  /** Requests still without an offer when the bench gave up waiting (30 s). */
  unoffered: number;
  rejected: Record<string, number>;
  /** Offers withdrawn (timeouts, offline): none expected, agents answer at once. */
  revoked: number;
  batches: BatchSummary;
  runtime: RuntimeSample;
}

const DRAIN_LIMIT_MS = 30_000;

export async function runSustained(o: SustainedOptions, runNo = 0): Promise<SustainedResult> {
  const dir = freshDir('routing');
  const engine = await openEngine({ path: dir, processors: defaultProcessors(), durability: o.durability });
  // As with a supervisor dashboard open: every `queue/<topic>` is rendered after each batch.
  engine.setInterest((topic) => topic.startsWith('queue/'));
  const wl = new RoutingWorkload({ agents: o.agents, topics: o.topics, freeShare: 0, seed: 11 + runNo, prefix: `s${runNo}-` });
  const think = prng(13 + runNo);
  const completions = new Set<NodeJS.Timeout>();
  const rejected = new Map<string, number>();
  let failure: unknown;
  try {
    const setupStart = performance.now();
    for (const events of [wl.agentEvents(), wl.profileEvents()]) countErrors(await engine.submit(events), rejected);
    if (rejected.size > 0) throw new Error(`routing setup rejected: ${JSON.stringify(Object.fromEntries(rejected))}`);
    const setupMs = performance.now() - setupStart;

    const requestHist = latencyHistogram();
    const acceptHist = latencyHistogram();
    const scheduledAt = new Map<string, number>();
    /** When each offer was accepted, and whether its request counts (scheduled in the window). */
    const acceptedAt = new Map<string, { at: number; measured: boolean }>();
    const start = performance.now() + 5;
    const measureFrom = start + o.warmupSeconds * 1000;
    const measureTo = measureFrom + o.seconds * 1000;
    const inWindow = (t: number) => t >= measureFrom && t < measureTo;
    let offers = 0;
    let answered = 0;
    let revoked = 0;

    const send = (events: InputEvent[]) => {
      engine.submit(events).then((results) => {
        if (inWindow(performance.now())) answered += results.length;
        countErrors(results, rejected);
      }, (err: unknown) => (failure ??= err));
    };

    const onOutputs = (outputs: Output[]) => {
      const now = performance.now();
      const accepts: InputEvent[] = [];
      for (const offer of offersIn(outputs)) {
        const due = scheduledAt.get(offer.request);
        if (due === undefined) continue;
        scheduledAt.delete(offer.request);
        if (inWindow(due)) requestHist.recordValue(Math.max(1, Math.round((now - due) * 1000)));
        if (inWindow(now)) offers++;
        acceptedAt.set(offer.request, { at: now, measured: inWindow(due) });
        accepts.push(wl.event('service.accepted', offer));
      }
      if (accepts.length > 0) send(accepts);
      for (const out of outputs) {
        const d = out.data as { type?: string; request?: string } | undefined;
        if (!out.topic.startsWith('agent/') || !d) continue;
        if (d.type === 'revoked') revoked++;
        if (d.type !== 'assigned') continue;
        const accepted = acceptedAt.get(d.request!);
        if (accepted === undefined) continue;
        acceptedAt.delete(d.request!);
        if (accepted.measured) acceptHist.recordValue(Math.max(1, Math.round((now - accepted.at) * 1000)));
        const timer = setTimeout(() => {
          completions.delete(timer);
          send([wl.event('service.completed', { request: d.request })]);
        }, o.thinkMinMs + think() * (o.thinkMaxMs - o.thinkMinMs));
        completions.add(timer);
      }
    };
    const stopOutputs = engine.onOutput(onOutputs);

    // Open loop: request k is due at start + k / rate; one submit per tick carries all due ones.
    const total = Math.round((o.warmupSeconds + o.seconds) * o.rate);
    const intervalMs = 1000 / o.rate;
    let k = 0;
    let maxLag = 0;
    let monitor: RuntimeMonitor | undefined;
    let recorder: BatchRecorder | undefined;
    let runtime: RuntimeSample | undefined;
    let batches: BatchSummary | undefined;
    collectGarbage();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (!monitor && now >= measureFrom) {
          monitor = new RuntimeMonitor();
          recorder = new BatchRecorder(engine);
        }
        const due: InputEvent[] = [];
        while (k < total && start + k * intervalMs <= now) {
          const scheduled = start + k++ * intervalMs;
          maxLag = Math.max(maxLag, now - scheduled);
          const ev = wl.request();
          scheduledAt.set(ev.request as string, scheduled);
          due.push(ev);
        }
        if (due.length > 0) send(due);
        if (k < total && failure === undefined) {
          setTimeout(tick, Math.max(0, start + k * intervalMs - performance.now()));
          return;
        }
        runtime = monitor?.stop();
        batches = recorder?.stop();
        resolve();
      };
      setTimeout(tick, Math.max(0, start - performance.now()));
    });
    const scheduleEnd = performance.now();
    while ((scheduledAt.size > 0 || acceptedAt.size > 0) && failure === undefined && performance.now() - scheduleEnd < DRAIN_LIMIT_MS) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const drainMs = performance.now() - scheduleEnd;
    stopOutputs();
    if (failure !== undefined) throw failure;
    return {
      durability: o.durability,
      setupMs,
      targetRequestsPerS: o.rate,
      offersPerS: offers / o.seconds,
      eventsPerS: answered / o.seconds,
      requestToOffer: summariseLatency(requestHist),
      acceptToAssigned: summariseLatency(acceptHist),
      maxSendLagMs: maxLag,
      drainMs,
      unoffered: scheduledAt.size,
      rejected: Object.fromEntries(rejected),
      revoked,
      batches: batches!,
      runtime: runtime!,
    };
  } finally {
    for (const t of completions) clearTimeout(t);
    await engine.close();
    removeDir(dir);
  }
}
